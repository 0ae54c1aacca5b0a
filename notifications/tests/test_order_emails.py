"""The order emails, from orders made, shipped, cancelled and returned through the real services:
what each says, to whom, that each is sent once however often its event is delivered, that a seller
sees only its own lines, and that what buyers and sellers typed is escaped in the HTML part."""

from __future__ import annotations

import socket

import pytest
from django.core import mail

from orders import events as orders_events
from orders import services as order_services
from orders.models import SubOrder
from orders.tests.factories import TaxRateFactory
from sellers.tests.factories import SellerFactory
from shop.core import events as outbox
from shop.core.models import HandledEvent, OutboxEvent

pytestmark = pytest.mark.django_db


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def sent_to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


@pytest.fixture
def two_seller_order(buyer, make_variant, place_order):
    """An order of 2 mugs from one seller and 1 lamp from another, taxed at 19%."""
    TaxRateFactory(country="DE", rate="0.1900", name="VAT 19%")
    mugs = SellerFactory(store_name="Mug Makers")
    lamps = SellerFactory(store_name="Lamp Lane")
    mug = make_variant(price="12.50", seller=mugs, title="Stoneware mug", sku="MUG-1")
    lamp = make_variant(price="40.00", seller=lamps, title="Desk lamp", sku="LAMP-1")
    order = place_order(buyer, [(mug, 2), (lamp, 1)])
    return order, mugs, lamps


def test_the_buyer_gets_one_receipt_with_each_sellers_part(buyer, two_seller_order):
    order, mugs, lamps = two_seller_order
    [receipt] = sent_to(buyer.email)

    assert receipt.subject == f"Your order {order.number} is confirmed"
    text, html = receipt.body, html_of(receipt)
    parts = {part.seller_id: part for part in order.sub_orders.all()}
    for body in (text, html):
        assert "Mug Makers" in body
        assert "Lamp Lane" in body
        assert "Stoneware mug" in body
        assert "MUG-1" in body
        assert "Desk lamp" in body
        assert "€12.50" in body
        assert "€25.00" in body
        assert "€40.00" in body
        assert f"€{parts[mugs.pk].total:,.2f}" in body
        assert f"€{parts[lamps.pk].total:,.2f}" in body
        assert f"€{order.tax:,.2f}" in body
        assert order.tax > 0
        assert f"€{order.shipping:,.2f}" in body
        assert f"€{order.total:,.2f}" in body
        assert "1 Market Street" in body
        assert "10115 Berlin" in body
        assert f"https://shop.example.com/orders/{order.number}/" in body  # links are absolute
    assert "Total paid: €" in text
    assert "<table" in html
    assert "&lt;" not in html


def test_each_seller_is_told_of_its_new_sub_order_with_only_its_own_lines(buyer, two_seller_order):
    order, mugs, lamps = two_seller_order
    [to_mugs] = sent_to(mugs.user.email)
    [to_lamps] = sent_to(lamps.user.email)
    mug_part = order.sub_orders.get(seller=mugs)

    assert to_mugs.subject == f"New order {order.number}: 2 items to ship"
    assert to_lamps.subject == f"New order {order.number}: 1 item to ship"
    for body in (to_mugs.body, html_of(to_mugs)):
        assert "Stoneware mug" in body
        assert "MUG-1" in body
        assert "Desk lamp" not in body
        assert "LAMP-1" not in body
        assert "Lamp Lane" not in body
        assert f"€{mug_part.total:,.2f}" in body
        assert f"€{order.total:,.2f}" not in body
        assert f"€{mug_part.total - mug_part.commission:,.2f}" in body  # the seller's earnings
        assert "Ada Buyer" in body
        assert "1 Market Street" in body
        assert buyer.email not in body  # the buyer's email address is not the seller's to know
        assert f"https://shop.example.com/seller/orders/suborder/{mug_part.pk}/change/" in body
    assert "Stoneware mug" not in to_lamps.body
    assert "Desk lamp" in to_lamps.body
    assert len(mail.outbox) == 3


def test_redelivered_events_send_nothing_again(two_seller_order):
    names = [orders_events.ORDER_CONFIRMED, orders_events.SUB_ORDER_STATUS_CHANGED]
    events = list(OutboxEvent.objects.filter(name__in=names))
    assert len(events) == 3  # the order confirmed, and its two sub-orders
    assert len(mail.outbox) == 3

    # The relay runs again (a worker that died before marking them delivered, a duplicate task).
    OutboxEvent.objects.update(delivered_at=None, next_attempt_at=None)
    for event in events:
        assert outbox.deliver(event.pk) is True
    assert outbox.redeliver_pending() >= 0
    assert len(mail.outbox) == 3


def test_an_email_that_could_not_be_sent_is_sent_once_when_the_event_is_delivered_again(
    settings, buyer, make_variant, place_order
):
    # The mail server is down: the SMTP client's connection is refused, the handler's transaction
    # rolls back with its HandledEvent row, and the event stays undelivered.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    order = place_order(buyer, [(make_variant(), 1)])
    confirmed = OutboxEvent.objects.get(name=orders_events.ORDER_CONFIRMED)
    confirmed.refresh_from_db()
    assert confirmed.delivered_at is None
    assert "ConnectionRefusedError" in confirmed.last_error
    assert not HandledEvent.objects.filter(event=confirmed, handler__endswith="email_buyer_order_confirmed").exists()

    # It is back: the next delivery sends the receipt, and any later one nothing.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox.deliver(confirmed.pk) is True
    assert outbox.deliver(confirmed.pk) is True
    OutboxEvent.objects.filter(pk=confirmed.pk).update(delivered_at=None)
    assert outbox.deliver(confirmed.pk) is True
    assert [message.subject for message in sent_to(buyer.email)] == [f"Your order {order.number} is confirmed"]
    assert message_ids_unique()


def message_ids_unique() -> bool:
    ids = [message.extra_headers["Message-ID"] for message in mail.outbox]
    return len(ids) == len(set(ids))


def test_shipped_and_delivered_tell_the_buyer_the_carrier_and_tracking_number(buyer, two_seller_order, committed):
    order, mugs, _ = two_seller_order
    part = order.sub_orders.get(seller=mugs)
    mail.outbox.clear()

    with committed():
        order_services.sub_order_ship(sub_order=part, carrier="DHL", tracking_number="JD0146 0001 2345")
    [shipped] = mail.outbox
    assert shipped.to == [buyer.email]
    assert shipped.subject == f"Your parcel from Mug Makers is on its way (order {order.number})"
    for body in (shipped.body, html_of(shipped)):
        assert "DHL" in body
        assert "JD0146 0001 2345" in body
        assert "Stoneware mug" in body
        assert "Desk lamp" not in body
        assert "ship separately" in body  # the lamp comes on its own

    with committed():
        order_services.sub_order_deliver(sub_order=part)
    [_, delivered] = mail.outbox
    assert delivered.subject == f"Your parcel from Mug Makers was delivered (order {order.number})"
    assert "return" in delivered.body
    assert "Stoneware mug" in delivered.body
    assert message_ids_unique()


def test_a_cancelled_part_tells_the_buyer_then_its_refund_does(buyer, two_seller_order, committed):
    order, _, lamps = two_seller_order
    part = order.sub_orders.get(seller=lamps)
    mail.outbox.clear()

    with committed():
        order_services.sub_order_cancel(sub_order=part, actor=buyer, reason="Found one in a shop nearby")
    cancelled, refunded = mail.outbox
    assert cancelled.to == refunded.to == [buyer.email]
    assert cancelled.subject == f"Lamp Lane's part of your order {order.number} was cancelled"
    amount = f"€{part.total:,.2f}"
    for body in (cancelled.body, html_of(cancelled)):
        assert "Desk lamp" in body
        assert "Stoneware mug" not in body
        assert "Found one in a shop nearby" in body
        assert f"refunding {amount}" in body.replace("<strong>", "").replace("</strong>", "")
        assert "rest of your order is not affected" in body
    assert refunded.subject == f"Refund of {amount} for order {order.number}"
    assert "cancelled part sold by Lamp Lane" in refunded.body
    assert f"Refunded on this order so far: {amount}" in refunded.body


def test_cancelling_a_one_seller_order_says_the_order_was_cancelled(buyer, make_variant, place_order, committed):
    order = place_order(buyer, [(make_variant(title="Teapot"), 1)])
    mail.outbox.clear()
    with committed():
        order_services.order_cancel(order=order, actor=buyer)
    assert [message.subject for message in mail.outbox] == [
        f"Your order {order.number} was cancelled",
        f"Refund of €{order.total:,.2f} for order {order.number}",
    ]


def test_a_return_request_tells_the_seller_and_its_refund_tells_the_buyer(buyer, two_seller_order, committed):
    order, mugs, _ = two_seller_order
    part = order.sub_orders.get(seller=mugs)
    with committed():
        order_services.sub_order_ship(sub_order=part, carrier="UPS", tracking_number="1Z999")
        order_services.sub_order_deliver(sub_order=part)
    mail.outbox.clear()

    with committed():
        the_return = order_services.return_request(
            order=order, lines=[{"sku": "MUG-1", "quantity": 1}], reason="Chipped rim", actor=buyer
        )
    [request] = mail.outbox
    assert request.to == [mugs.user.email]
    assert request.subject == f"Return requested for order {order.number}"
    for body in (request.body, html_of(request)):
        assert "Chipped rim" in body
        assert "Stoneware mug" in body
        assert "Desk lamp" not in body
        assert f"€{the_return.amount:,.2f}" in body
        assert f"https://shop.example.com/seller/orders/return/{the_return.pk}/change/" in body

    with committed():
        order_services.return_approve(the_return=the_return, actor=mugs.user)
    [_, refund] = mail.outbox
    assert refund.to == [buyer.email]
    assert refund.subject == f"Refund of €{the_return.amount:,.2f} for order {order.number}"
    assert "return of items from Mug Makers" in refund.body
    assert f"1 x Stoneware mug (SKU MUG-1): €{the_return.amount:,.2f}" in refund.body
    # approving moves the return (approved, refunded) without another email to anyone
    assert len(mail.outbox) == 2


def test_what_buyers_and_sellers_typed_is_escaped_in_html_and_kept_in_text(buyer, make_variant, place_order, committed):
    seller = SellerFactory(store_name="Bits & <b>Bobs</b>")
    title = '<script>alert("mug")</script> & saucer'
    order = place_order(buyer, [(make_variant(seller=seller, title=title), 1)])
    part = order.sub_orders.get()
    with committed():
        order_services.sub_order_ship(sub_order=part, carrier="<img src=x onerror=alert(1)>", tracking_number="T1")

    assert len(mail.outbox) == 3  # receipt, new sub-order, shipped
    for message in mail.outbox:
        html = html_of(message)
        assert "<script>" not in html
        assert "<b>Bobs</b>" not in html
        assert "<img" not in html
        assert "&lt;script&gt;alert(&quot;mug&quot;)&lt;/script&gt; &amp; saucer" in html
        assert "Bits &amp; &lt;b&gt;Bobs&lt;/b&gt;" in html
        assert title in message.body
        assert "&lt;" not in message.body
        assert "&amp;" not in message.body
    shipped = mail.outbox[-1]
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_of(shipped)
    assert "Carrier: <img src=x onerror=alert(1)>" in shipped.body


def test_no_email_for_moves_nobody_needs_to_hear_about(buyer, two_seller_order, committed):
    order, mugs, _ = two_seller_order
    mail.outbox.clear()
    with committed():
        order_services.sub_order_process(sub_order=order.sub_orders.get(seller=mugs))
    assert OutboxEvent.objects.filter(name=orders_events.SUB_ORDER_STATUS_CHANGED, payload__to="processing").exists()
    assert mail.outbox == []
    assert SubOrder.objects.get(seller=mugs).status == "processing"


def test_a_coupon_discount_shows_on_the_receipt_and_on_the_sellers_email(buyer, make_variant, place_order):
    from promotions.tests.factories import CouponFactory

    CouponFactory(code="SPRING10")
    seller = SellerFactory(store_name="Kettle Corner")
    order = place_order(buyer, [(make_variant(price="50.00", seller=seller, title="Kettle"), 1)], coupon="SPRING10")
    part = order.sub_orders.get()
    assert order.discount > 0

    [receipt] = sent_to(buyer.email)
    [to_seller] = sent_to(seller.user.email)
    assert f"Discount (SPRING10): -€{order.discount:,.2f}" in receipt.body
    assert "Coupon: SPRING10" in receipt.body
    assert f"-€{order.discount:,.2f}" in html_of(receipt)
    assert f"Discount: -€{part.discount:,.2f}" in to_seller.body
