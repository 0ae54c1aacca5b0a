"""Cancellations, returns and refunds through real paid orders (sandbox gateway): stock comes back,
refunds are the stored amounts, exactly, and they reach the gateway and the seller's ledger once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from catalog.tests.factories import CategoryFactory
from inventory.models import Stock, StockMovement
from orders import services
from orders.models import Order, OrderLine, OrderRefund, Return
from orders.states import InvalidTransition
from orders.tests.factories import TaxRateFactory, order_through_checkout
from payments.models import Refund
from sellers.models import LedgerEntry, Seller
from sellers.tests.factories import SellerFactory
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


def gateway_refunds() -> list[Decimal]:
    return sorted(Refund.objects.filter(status="succeeded").values_list("amount", flat=True))


def deliver(sub_order):
    services.sub_order_ship(sub_order=sub_order, carrier="DHL", tracking_number="1")
    services.sub_order_deliver(sub_order=sub_order)


@pytest.fixture
def two_seller_order(buyer, make_variant):
    """Two sellers, three lines, a 15% coupon, weight shipping and 19% tax: amounts that do not divide evenly."""
    from promotions.tests.factories import CouponFactory

    CouponFactory(code="FIFTEEN", value=Decimal("15.00"))
    TaxRateFactory(country="DE", rate=Decimal("0.1900"))
    first, second = SellerFactory(), SellerFactory()
    a = make_variant(price="9.99", seller=first, on_hand=10, weight_grams=333)
    b = make_variant(price="3.33", seller=first, on_hand=10, weight_grams=1200)
    c = make_variant(price="14.29", seller=second, on_hand=10, weight_grams=50)
    return order_through_checkout(
        buyer=buyer, items=[(a, 3), (b, 1), (c, 2)], shipping_method="express", coupon="FIFTEEN"
    )


def test_allocation_adds_up_exactly_at_every_level(two_seller_order):
    order = two_seller_order
    lines = list(OrderLine.objects.filter(sub_order__order=order))
    for line in lines:
        assert line.total == line.subtotal - line.discount + line.shipping + line.tax
    for name in ("subtotal", "discount", "shipping", "tax", "total"):
        for sub_order in order.sub_orders.all():
            assert getattr(sub_order, name) == sum(getattr(line, name) for line in sub_order.lines.all()), name
        assert getattr(order, name) == sum(getattr(s, name) for s in order.sub_orders.all()), name
    assert order.total == order.subtotal - order.discount + order.shipping + order.tax
    assert order.discount > 0
    assert order.tax > 0
    assert order.shipping > 0
    assert order.total == order.checkout.total
    # and the gateway was charged exactly that
    assert order.checkout.attempts.get().amount == order.total


def test_commission_rate_and_amount_are_snapshotted_per_line(buyer, make_variant):
    category = CategoryFactory(commission_rate=Decimal("0.1500"))
    seller = SellerFactory(commission_rate=None)
    variant = make_variant(price="20.00", seller=seller, category=category)
    order = order_through_checkout(buyer=buyer, items=[(variant, 2)])

    line = OrderLine.objects.get(sub_order__order=order)
    Seller.objects.filter(pk=seller.pk).update(commission_rate=Decimal("0.0500"))  # later changes do not move it

    line.refresh_from_db()
    assert (line.commission_rate, line.commission_amount) == (Decimal("0.1500"), Decimal("6.00"))
    assert line.sub_order.commission == Decimal("6.00")
    sale = LedgerEntry.objects.get(seller=seller, kind="commission")
    assert sale.amount == Decimal("-6.00")


def test_cancelling_the_order_restores_stock_and_refunds_every_stored_amount(two_seller_order):
    order = two_seller_order
    skus = list(OrderLine.objects.filter(sub_order__order=order).values_list("sku", "quantity"))
    before = {sku: Stock.objects.get(sku=sku).on_hand for sku, _ in skus}

    services.order_cancel(order=order, actor=order.buyer)

    order.refresh_from_db()
    assert order.status == "cancelled"
    for sku, quantity in skus:
        assert Stock.objects.get(sku=sku).on_hand == before[sku] + quantity
    assert gateway_refunds() == sorted(s.total for s in order.sub_orders.all())
    assert order.refunded_total == order.total
    assert LedgerEntry.objects.filter(kind="refund").count() == 2
    assert OutboxEvent.objects.filter(name="refund.issued").count() == 2
    # cancelling again is refused and refunds nothing more
    with pytest.raises(InvalidTransition):
        services.order_cancel(order=order)
    assert len(gateway_refunds()) == 2


def test_stock_is_restored_once_even_if_the_restock_is_repeated(two_seller_order):
    order = two_seller_order
    sub_order = order.sub_orders.first()
    services.sub_order_cancel(sub_order=sub_order)
    line = sub_order.lines.first()
    on_hand = Stock.objects.get(sku=line.sku).on_hand

    from inventory import services as inventory_services

    inventory_services.stock_restock(
        lines=[(line.sku, line.quantity)],
        reason=f"order {order.number} cancelled",
        key=f"sub-order:{sub_order.pk}:cancel",
    )

    assert Stock.objects.get(sku=line.sku).on_hand == on_hand
    assert StockMovement.objects.filter(stock__sku=line.sku, delta=line.quantity).count() == 1


def test_cancelling_one_sub_order_refunds_only_its_part(two_seller_order):
    order = two_seller_order
    first, second = order.sub_orders.order_by("id")

    services.sub_order_cancel(sub_order=first, reason="out of stock in the warehouse")

    order.refresh_from_db()
    assert order.status == "partially_cancelled"
    assert gateway_refunds() == [first.total]
    assert order.refunded_total == first.total
    services.sub_order_ship(sub_order=second, carrier="DHL", tracking_number="1")
    order.refresh_from_db()
    assert order.status == "shipped"
    with pytest.raises(InvalidTransition):
        services.order_cancel(order=order)


def test_a_shipped_order_cannot_be_cancelled(two_seller_order):
    order = two_seller_order
    services.sub_order_ship(sub_order=order.sub_orders.first(), carrier="DHL", tracking_number="1")

    with pytest.raises(InvalidTransition):
        services.order_cancel(order=order)

    assert gateway_refunds() == []
    assert set(order.sub_orders.values_list("status", flat=True)) == {"shipped", "confirmed"}


def test_a_return_approved_refunds_exactly_the_stored_amounts_of_its_lines(two_seller_order):
    order = two_seller_order
    sub_order = order.sub_orders.order_by("id").first()
    deliver(sub_order)
    line = sub_order.lines.order_by("-quantity").first()  # 3 units: the line total does not split evenly
    assert line.quantity == 3

    parts = []
    for _ in range(3):  # one unit at a time
        the_return = services.return_request(order=order, lines=[{"sku": line.sku, "quantity": 1}], reason="faulty")
        approved = services.return_approve(the_return=the_return, actor=sub_order.seller.user)
        assert approved.status == Return.Status.REFUNDED
        parts.append(approved.amount)

    assert sum(parts) == line.total  # to the cent
    assert gateway_refunds() == sorted(parts)
    assert sum(OrderRefund.objects.values_list("commission", flat=True)) == line.commission_amount
    with pytest.raises(Exception, match="More units than can still be returned"):
        services.return_request(order=order, lines=[{"sku": line.sku, "quantity": 1}])
    order.refresh_from_db()
    assert order.refunded_total == line.total
    published = [
        e.payload["to"] for e in OutboxEvent.objects.filter(name="return.status_changed").order_by("created_at")
    ]
    assert published == ["requested", "approved", "refunded"] * 3


def test_a_return_approved_with_restock_puts_its_units_back_once(two_seller_order):
    order = two_seller_order
    sub_order = order.sub_orders.order_by("id").first()
    deliver(sub_order)
    line = sub_order.lines.order_by("-quantity").first()
    on_hand = Stock.objects.get(sku=line.sku).on_hand
    kept = services.return_request(order=order, lines=[{"sku": line.sku, "quantity": 1}], reason="worn")
    back = services.return_request(order=order, lines=[{"sku": line.sku, "quantity": 2}], reason="too small")

    services.return_approve(the_return=kept)  # the goods cannot be sold again: stock stays as it is
    assert Stock.objects.get(sku=line.sku).on_hand == on_hand
    approved = services.return_approve(the_return=back, restock=True)

    assert approved.status == Return.Status.REFUNDED
    assert Stock.objects.get(sku=line.sku).on_hand == on_hand + 2
    movement = StockMovement.objects.get(stock__sku=line.sku, reason__endswith=f"#return:{back.pk}")
    assert (movement.delta, movement.on_hand_after) == (2, on_hand + 2)
    assert f"return {back.pk} of order {order.number}" in movement.reason
    with pytest.raises(InvalidTransition):  # a second approval changes nothing, stock included
        services.return_approve(the_return=back, restock=True)
    assert Stock.objects.get(sku=line.sku).on_hand == on_hand + 2


def test_a_rejected_return_frees_its_units_for_another_request(two_seller_order):
    order = two_seller_order
    sub_order = order.sub_orders.order_by("id").first()
    deliver(sub_order)
    line = sub_order.lines.first()

    first = services.return_request(order=order, lines=[{"sku": line.sku, "quantity": line.quantity}])
    services.return_reject(the_return=first, reason="Used")
    again = services.return_request(order=order, lines=[{"sku": line.sku, "quantity": line.quantity}])

    assert again.amount == line.total
    with pytest.raises(InvalidTransition):
        services.return_reject(the_return=first, reason="twice")
    with pytest.raises(InvalidTransition):
        services.return_approve(the_return=first)
    assert gateway_refunds() == []


def test_returns_are_for_delivered_sub_orders_of_one_seller(two_seller_order):
    order = two_seller_order
    first, second = order.sub_orders.order_by("id")
    deliver(first)
    skus = [first.lines.first().sku, second.lines.first().sku]

    with pytest.raises(InvalidTransition):
        services.return_request(order=order, lines=[{"sku": skus[1], "quantity": 1}])
    with pytest.raises(Exception, match="one seller at a time"):
        services.return_request(order=order, lines=[{"sku": sku, "quantity": 1} for sku in skus])
    with pytest.raises(Exception, match="no item"):
        services.return_request(order=order, lines=[{"sku": "NOPE", "quantity": 1}])


def test_a_refund_the_gateway_could_not_take_is_retried_by_the_resume_task(two_seller_order, monkeypatch):
    from payments import services as payment_services

    order = two_seller_order
    sub_order = order.sub_orders.first()
    real = payment_services.refund_create

    def unreachable(**kwargs):
        raise ConnectionError("gateway down")

    monkeypatch.setattr(payment_services, "refund_create", unreachable)
    services.sub_order_cancel(sub_order=sub_order)
    refund = OrderRefund.objects.get()
    assert refund.status == "pending"
    assert Order.objects.get(pk=order.pk).refunded_total == 0

    monkeypatch.setattr(payment_services, "refund_create", real)
    services.orders_resume()
    services.orders_resume()

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert gateway_refunds() == [sub_order.total]
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_a_refund_left_pending_by_the_gateway_is_recorded_once_it_goes_through(two_seller_order, monkeypatch):
    """The refund reached payments but the gateway did not answer: the resume task asks again with
    the same key (answered from the stored refund, not refused as another refund's key), and once
    payments' reconciliation got it through, the order records it once."""
    from payments import services as payment_services

    order = two_seller_order
    sub_order = order.sub_orders.first()
    real_gateway_get = payment_services.gateway_get

    class NoAnswer:
        def refund(self, **kwargs):
            raise payment_services.GatewayTimeout("no answer")

    monkeypatch.setattr(payment_services, "gateway_get", lambda name: NoAnswer())
    services.sub_order_cancel(sub_order=sub_order)
    services.orders_resume()  # asks payments again: still pending there
    refund = OrderRefund.objects.get()
    assert refund.status == "pending"
    assert refund.last_error == "pending"

    monkeypatch.setattr(payment_services, "gateway_get", real_gateway_get)
    payment_services.payments_reconcile(older_than=timedelta(0))
    services.orders_resume()
    services.orders_resume()

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert gateway_refunds() == [sub_order.total]
    assert Order.objects.get(pk=order.pk).refunded_total == sub_order.total
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
