"""The checkout saga, path by path (DESIGN.md "Checkout saga"): success, declines, abandon and
expiry, failover, timeouts settled by reconciliation, workers that die mid-saga, idempotent replays.
The sandbox gateway keeps its own ledger, so "charged once" is read from the gateway's side."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cart import selectors as cart_selectors
from cart import services as cart_services
from inventory.models import Reservation, Stock
from orders import services
from orders.models import Checkout, CheckoutStep, Order, PaymentAttempt, SubOrder
from orders.tests.conftest import charges_made, fill_cart, pay, start
from payments import services as payment_services
from payments.models import PaymentIntent
from promotions.models import CouponRedemption
from promotions.tests.factories import CouponFactory
from sellers.models import LedgerEntry
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


def stock_of(variant) -> tuple[int, int]:
    stock = Stock.objects.get(variant=variant)
    return stock.on_hand, stock.reserved


def later(minutes: int = 11):
    return timezone.now() + timedelta(minutes=minutes)


def test_success_confirms_the_order_commits_stock_writes_the_ledger_and_clears_the_cart(
    buyer, make_variant, django_capture_on_commit_callbacks
):
    a, b = make_variant(price="10.00", on_hand=5), make_variant(price="30.00", on_hand=5)
    fill_cart(buyer, (a, 2), (b, 1))
    checkout = start(buyer)
    assert checkout.status == "reserved"
    assert stock_of(a) == (5, 2)
    assert stock_of(b) == (5, 1)

    with django_capture_on_commit_callbacks(execute=True):
        result = pay(buyer, checkout)

    assert result.status_code == 201, result.body
    order = Order.objects.get(number=result.body["order_number"])
    assert order.status == "confirmed"
    assert result.body["status"] == "confirmed"
    assert {s.status for s in order.sub_orders.all()} == {"confirmed"}
    assert order.sub_orders.count() == 2  # one per seller
    assert stock_of(a) == (3, 0)
    assert stock_of(b) == (4, 0)
    assert Reservation.objects.get(pk=checkout.reservation_id).status == "committed"
    checkout.refresh_from_db()
    assert checkout.status == "paid"
    assert charges_made() == 1
    assert Decimal(result.body["total"]) == order.total == checkout.total
    assert LedgerEntry.objects.filter(kind="sale").count() == 2
    assert cart_selectors.cart_get(owner=cart_services.CartOwner(user=buyer)).lines == []
    names = list(OutboxEvent.objects.values_list("name", flat=True))
    assert names.count("order.confirmed") == 1
    assert names.count("sub_order.status_changed") == 2
    steps = list(CheckoutStep.objects.filter(checkout=checkout).values_list("name", flat=True))
    assert steps[:4] == ["started", "reserved", "priced", "order_created"]
    assert "stock_committed" in steps
    assert steps[-1] == "confirmed"


def test_decline_then_success_with_another_token(buyer, make_variant):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer)

    declined = pay(buyer, checkout, key="pay-1", token="tok_chargeDeclined")
    assert declined.status_code == 402
    assert declined.body["error"] == "payment_declined"
    checkout.refresh_from_db()
    assert checkout.status == "reserved"
    assert stock_of(variant) == (3, 1)
    assert Order.objects.get(checkout=checkout).status == "pending_payment"

    paid = pay(buyer, checkout, key="pay-2", token="tok_mastercard")
    assert paid.status_code == 201
    assert Order.objects.count() == 1
    assert Order.objects.get().status == "confirmed"
    assert stock_of(variant) == (2, 0)
    assert list(PaymentAttempt.objects.order_by("id").values_list("status", flat=True)) == ["declined", "succeeded"]
    assert charges_made() == 1


def test_decline_then_abandon_releases_stock_and_coupon_and_fails_the_order(buyer, make_variant):
    variant = make_variant(on_hand=3)
    coupon = CouponFactory(code="SAVE10")
    fill_cart(buyer, (variant, 2))
    checkout = start(buyer, coupon="save10")
    assert checkout.discount == Decimal("2.00")
    assert CouponRedemption.objects.get(coupon=coupon).status == "reserved"
    pay(buyer, checkout, token="tok_insufficientFunds")

    services.checkout_abandon(user=buyer, checkout_id=checkout.pk)

    checkout.refresh_from_db()
    assert checkout.status == "abandoned"
    assert stock_of(variant) == (3, 0)
    assert CouponRedemption.objects.get(coupon=coupon).status == "released"
    order = Order.objects.get(checkout=checkout)
    assert order.status == "failed"
    assert set(order.sub_orders.values_list("status", flat=True)) == {"failed"}
    assert OutboxEvent.objects.filter(name="order.failed").count() == 1
    assert charges_made() == 0


def test_decline_then_expiry_releases_stock_and_coupon_and_fails_the_order(buyer, make_variant):
    variant = make_variant(on_hand=3)
    coupon = CouponFactory(code="SAVE10", max_uses=1)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer, coupon="SAVE10")
    pay(buyer, checkout, token="tok_chargeDeclined")

    assert services.checkouts_expire(now=later()) == 1

    checkout.refresh_from_db()
    assert checkout.status == "expired"
    assert stock_of(variant) == (3, 0)
    assert CouponRedemption.objects.get(coupon=coupon).status == "released"
    assert Order.objects.get(checkout=checkout).status == "failed"
    # and paying now is too late
    with pytest.raises(services.CheckoutExpired):
        pay(buyer, checkout, key="pay-late")


def test_paying_after_expires_at_is_expired_and_releases_at_once(buyer, make_variant):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer)
    Checkout.objects.filter(pk=checkout.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(services.CheckoutExpired):
        pay(buyer, checkout)

    assert Checkout.objects.get(pk=checkout.pk).status == "expired"
    assert stock_of(variant) == (3, 0)
    assert charges_made() == 0


def test_timeout_is_settled_by_reconciliation_and_confirms_once(
    buyer, make_variant, django_capture_on_commit_callbacks
):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer)

    pending = pay(buyer, checkout, token="tok_timeout")

    assert pending.status_code == 202
    checkout.refresh_from_db()
    assert checkout.status == "paying"
    assert Order.objects.get(checkout=checkout).status == "pending_payment"
    # a paying checkout is never expired: its payment may have gone through
    assert services.checkouts_expire(now=later(60)) == 0
    assert stock_of(variant) == (3, 1)

    with django_capture_on_commit_callbacks(execute=True):
        payment_services.payments_reconcile(older_than=timedelta(0))  # publishes payment.settled

    order = Order.objects.get(checkout=checkout)
    assert order.status == "confirmed"
    assert stock_of(variant) == (2, 0)
    assert charges_made() == 1
    # the resume task finds nothing left to do, and a replay of the key answers the result
    assert services.orders_resume(now=later(5)) == 0
    replay = pay(buyer, checkout, token="tok_timeout")
    assert replay.status_code == 201
    assert replay.body["order_number"] == order.number
    assert charges_made() == 1


def test_worker_killed_after_the_reservation_is_released_by_expiry(buyer, make_variant, monkeypatch):
    variant = make_variant(on_hand=3)
    coupon = CouponFactory(code="SAVE10")
    fill_cart(buyer, (variant, 2))

    def die(*args, **kwargs):
        raise SystemExit("worker killed")  # the process stops right after reserving and redeeming

    monkeypatch.setattr(services, "_price_locked", die)
    with pytest.raises(SystemExit):
        start(buyer, coupon="SAVE10")
    monkeypatch.undo()

    checkout = Checkout.objects.get()
    assert checkout.status == "reserved"
    assert not checkout.is_priced
    assert stock_of(variant) == (3, 2)
    assert CouponRedemption.objects.get(coupon=coupon).status == "reserved"

    assert services.checkouts_expire(now=later()) == 1

    assert stock_of(variant) == (3, 0)
    assert CouponRedemption.objects.get(coupon=coupon).status == "released"
    assert Checkout.objects.get().status == "expired"


def test_an_interrupted_start_is_finished_by_a_replay_of_its_key(buyer, make_variant, monkeypatch):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    original = services._price_locked
    monkeypatch.setattr(services, "_price_locked", lambda *a, **k: (_ for _ in ()).throw(SystemExit("killed")))
    with pytest.raises(SystemExit):
        start(buyer, key="k")
    monkeypatch.setattr(services, "_price_locked", original)

    checkout, created = services.checkout_start(user=buyer, idempotency_key="k", shipping_method="standard")

    assert created is False
    assert checkout.is_priced
    assert checkout.total > 0
    assert stock_of(variant) == (3, 1)  # one reservation, not two
    assert Reservation.objects.count() == 1


def test_worker_killed_after_the_charge_is_confirmed_by_the_resume_task_without_a_second_charge(
    buyer, make_variant, monkeypatch
):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer)

    def die(*, attempt_id, outcome):
        raise SystemExit("worker killed after the gateway charged")

    monkeypatch.setattr(services, "_payment_finish", die)
    with pytest.raises(SystemExit):
        pay(buyer, checkout)
    monkeypatch.undo()

    assert charges_made() == 1
    checkout.refresh_from_db()
    assert checkout.status == "paying"
    assert Order.objects.get(checkout=checkout).status == "pending_payment"
    assert services.checkouts_expire(now=later(60)) == 0  # never released while its payment may be made

    assert services.orders_resume(now=later(5)) == 1

    order = Order.objects.get(checkout=checkout)
    assert order.status == "confirmed"
    assert order.payment_intent_id == str(PaymentIntent.objects.get().pk)
    assert stock_of(variant) == (2, 0)
    assert charges_made() == 1
    assert services.orders_resume(now=later(10)) == 0
    assert charges_made() == 1


def test_worker_killed_before_the_gateway_was_called_reopens_the_checkout(buyer, make_variant, monkeypatch):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer)
    monkeypatch.setattr(
        payment_services, "payment_charge", lambda **kwargs: (_ for _ in ()).throw(SystemExit("killed"))
    )
    with pytest.raises(SystemExit):
        pay(buyer, checkout)
    monkeypatch.undo()

    assert services.orders_resume(now=later(5)) == 1

    checkout.refresh_from_db()
    assert checkout.status == "reserved"  # nothing was charged: the buyer may pay again
    assert pay(buyer, checkout, key="pay-2").status_code == 201
    assert charges_made() == 1


def test_a_worker_stalled_before_the_gateway_call_cannot_charge_once_the_resume_task_reopened(
    buyer, make_variant, monkeypatch
):
    """The resume task finds an attempt without an intent and reopens the checkout; the stalled
    worker then wakes and makes its call: the key is closed, so no gateway is called and no money
    is taken without an order; the buyer pays again and is charged once."""
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer)
    real_charge = payment_services.payment_charge

    def stall_then_charge(**kwargs):
        assert services.orders_resume(now=later(5)) == 1  # the worker stalls; meanwhile resume runs
        return real_charge(**kwargs)

    monkeypatch.setattr(payment_services, "payment_charge", stall_then_charge)
    late = pay(buyer, checkout)
    monkeypatch.undo()

    assert charges_made() == 0
    assert late.status_code != 201
    checkout.refresh_from_db()
    assert checkout.status == "reserved"
    assert pay(buyer, checkout, key="pay-2").status_code == 201
    assert charges_made() == 1
    assert Order.objects.get(checkout=checkout).status == "confirmed"


def test_idempotency_key_replay_returns_the_same_order_and_charges_once(buyer, make_variant):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer)

    first = pay(buyer, checkout, key="same")
    again = pay(buyer, checkout, key="same")

    assert first.status_code == again.status_code == 201
    assert again.replayed
    assert again.body == first.body
    assert Order.objects.count() == 1
    assert charges_made() == 1
    assert PaymentIntent.objects.count() == 1


def test_a_declined_replay_answers_402_again_without_a_gateway_call(buyer, make_variant):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer)

    first = pay(buyer, checkout, key="k", token="tok_chargeDeclined")
    again = pay(buyer, checkout, key="k", token="tok_visa")

    assert first.status_code == again.status_code == 402
    assert charges_made() == 0


def test_start_replay_returns_the_same_checkout(buyer, make_variant):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    first, created = services.checkout_start(user=buyer, idempotency_key="k", shipping_method="standard")
    again, created_again = services.checkout_start(user=buyer, idempotency_key="k", shipping_method="express")

    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert stock_of(variant) == (3, 1)


def test_a_new_checkout_abandons_the_open_one(buyer, make_variant):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    first = start(buyer, key="one")
    second = start(buyer, key="two")

    assert Checkout.objects.get(pk=first.pk).status == "abandoned"
    assert second.status == "reserved"
    assert stock_of(variant) == (3, 1)


def test_out_of_stock_lists_the_skus_and_holds_nothing(buyer, make_variant):
    plenty, scarce = make_variant(on_hand=5), make_variant(on_hand=2)
    fill_cart(buyer, (plenty, 1), (scarce, 2))
    Stock.objects.filter(variant=scarce).update(on_hand=1)

    with pytest.raises(services.OutOfStock) as refused:
        start(buyer)

    assert refused.value.skus == [scarce.sku]
    assert Checkout.objects.count() == 0
    assert stock_of(plenty) == (5, 0)


def test_empty_cart_is_refused(buyer):
    with pytest.raises(services.EmptyCart):
        start(buyer)


def test_sub_orders_waiting_for_payment_are_not_shown_to_sellers(buyer, make_variant):
    from orders import selectors

    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer)
    pay(buyer, checkout, token="tok_chargeDeclined")

    assert SubOrder.objects.count() == 1
    assert selectors.sub_orders_for_seller(seller=variant.product.seller).count() == 0


def test_a_gateway_error_fails_over_to_the_second_gateway_in_the_same_payment(buyer, make_variant, settings):
    from orders.tests.fake_stripe import FakeStripe

    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer)
    with FakeStripe() as stripe_server:
        settings.PAYMENT_GATEWAYS = ["sandbox", "stripe"]
        settings.STRIPE_SECRET_KEY = FakeStripe.api_key
        settings.STRIPE_API_BASE = stripe_server.url

        result = pay(buyer, checkout, token="tok_gatewayError")  # the sandbox answers 502 for this token

    assert result.status_code == 201, result.body
    order = Order.objects.get(number=result.body["order_number"])
    assert order.payment_gateway == "stripe"
    assert order.status == "confirmed"
    assert len(stripe_server.charges) == 1
    assert charges_made() == 0  # the sandbox charged nothing
    assert list(PaymentIntent.objects.get().attempts.values_list("gateway", "outcome")) == [
        ("sandbox", "error"),
        ("stripe", "succeeded"),
    ]


def test_a_settled_payment_delivered_twice_confirms_once(buyer, make_variant):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer)
    pay(buyer, checkout, token="tok_timeout")
    intent = PaymentIntent.objects.get()
    assert payment_services.payment_settle(intent_id=intent.pk).status == "succeeded"

    for _ in range(2):  # the webhook and reconciliation both tell us
        services.payment_settled(intent_id=intent.pk, status="succeeded")
    services.orders_resume(now=later(5))

    assert Order.objects.get(checkout=checkout).status == "confirmed"
    assert LedgerEntry.objects.filter(kind="sale").count() == 1
    assert OutboxEvent.objects.filter(name="order.confirmed").count() == 1
    assert stock_of(variant) == (2, 0)
    assert charges_made() == 1


def test_a_payment_settled_for_something_else_is_ignored():
    assert services.payment_settled(intent_id=999999, status="succeeded") is None


def test_a_payment_that_arrives_after_the_units_were_sold_elsewhere_is_refunded_in_full(
    buyer, make_variant, django_capture_on_commit_callbacks
):
    from accounts.tests.factories import AddressFactory, UserFactory
    from inventory import services as inventory_services
    from payments.models import Refund

    variant = make_variant(on_hand=1)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer)
    # the reservation lapses under the checkout (a clock skew between the two expiry jobs) ...
    Reservation.objects.filter(pk=checkout.reservation_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    inventory_services.reservations_expire()
    # ... and someone else buys the last unit meanwhile
    other = UserFactory()
    AddressFactory(user=other, is_default=True)
    fill_cart(other, (variant, 1))
    assert pay(other, start(other, key="other"), key="other").status_code == 201

    with django_capture_on_commit_callbacks(execute=True):
        result = pay(buyer, checkout)

    assert result.status_code == 409
    assert result.body["skus"] == [variant.sku]
    order = Order.objects.get(checkout=checkout)
    assert order.status == "failed"
    assert list(Refund.objects.filter(intent__reference=order.number).values_list("amount", "status")) == [
        (order.total, "succeeded")
    ]
    assert Checkout.objects.get(pk=checkout.pk).status == "expired"
    assert stock_of(variant) == (0, 0)
    assert LedgerEntry.objects.filter(kind="refund").count() == 0  # that sale never reached the ledger
