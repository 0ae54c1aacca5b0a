"""The checkout and order pages through Django's test client, against the real database, Redis and
the sandbox gateway: the whole flow, declines, abandoning, card numbers refused, field errors,
cancel and return buttons, and the order page's fixed query count."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Address
from accounts.tests.factories import AddressFactory, UserFactory
from inventory.models import Stock
from orders import services
from orders.models import Checkout, Order, PaymentAttempt, Return, SubOrder
from orders.tests.conftest import charges_made, fill_cart
from orders.tests.factories import TaxRateFactory, order_through_checkout
from promotions.tests.factories import CouponFactory
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db

# A valid card number (Luhn) that the pages never print: if it shows up in an answer, it was echoed.
PAN = "4000056655665556"


@pytest.fixture
def shopper(client, buyer):
    client.force_login(buyer)
    return client


def key_of(response, action: str) -> str:
    """The Idempotency-Key of the form posting to ``action`` on the rendered page."""
    html = response.content.decode()
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    assert form, f"no form posting to {action}"
    return re.search(r'name="idempotency_key" value="([^"]+)"', form.group(1)).group(1)


def choose(client, buyer, *, method: str = "standard"):
    """Walk the steps before the reservation: the saved address, a shipping method."""
    address = Address.objects.filter(user=buyer).first()
    assert client.post("/checkout/address/", {"address": str(address.pk)}).url == "/checkout/shipping/"
    assert client.post("/checkout/shipping/", {"shipping_method": method}).url == "/checkout/review/"


def start(client) -> Checkout:
    review = client.get("/checkout/review/")
    response = client.post("/checkout/start/", {"idempotency_key": key_of(review, "/checkout/start/")})
    checkout = Checkout.objects.get()
    assert response.url == f"/checkout/{checkout.pk}/pay/"
    return checkout


def pay(client, checkout, token: str):
    page = client.get(f"/checkout/{checkout.pk}/pay/")
    return client.post(
        f"/checkout/{checkout.pk}/pay/",
        {"idempotency_key": key_of(page, f"/checkout/{checkout.pk}/pay/"), "payment_token": token},
    )


# --- the whole flow ----------------------------------------------------------------------------------


def test_a_guest_is_sent_to_log_in_and_comes_back(client):
    response = client.get("/checkout/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/checkout/"


def test_full_flow_address_shipping_coupon_summary_pay_confirmation_and_timeline(shopper, buyer, make_variant):
    TaxRateFactory(country="DE", rate=Decimal("0.1900"))
    seller_a, seller_b = SellerFactory(store_name="Alpha Goods"), SellerFactory(store_name="Beta Wares")
    lamp = make_variant(price="20.00", on_hand=5, seller=seller_a)
    mug = make_variant(price="8.00", on_hand=5, seller=seller_b)
    fill_cart(buyer, (lamp, 2), (mug, 1))
    CouponFactory(code="TENOFF")

    assert shopper.get("/checkout/").url == "/checkout/address/"
    address_page = shopper.get("/checkout/address/")
    assert address_page.status_code == 200
    assert b"Market Street" in address_page.content
    assert b"A new address" in address_page.content
    choose(shopper, buyer, method="standard")
    shipping_page = shopper.get("/checkout/shipping/")
    assert b"Alpha Goods" in shipping_page.content
    assert b"Beta Wares" in shipping_page.content
    assert "€9.80" in shipping_page.content.decode()  # standard: 4.90 for each of the two packages

    refused = shopper.post("/checkout/coupon/", {"code": "NOPE"})
    assert refused.status_code == 400
    assert re.search(r'class="field has-error".*?id_code.*?field-error', refused.content.decode(), re.S)
    assert shopper.post("/checkout/coupon/", {"code": "tenoff"}).url == "/checkout/review/"

    review = shopper.get("/checkout/review/")
    text = review.content.decode()
    assert review.status_code == 200
    assert "TENOFF" in text
    assert "€48.00" in text  # subtotal
    assert "\N{MINUS SIGN}€4.80" in text  # 10% off
    assert "€9.80" in text  # shipping
    # tax 19% of (48.00 - 4.80 + 9.80) = 10.07; total 48.00 - 4.80 + 9.80 + 10.07
    assert "€10.07" in text
    assert "€63.07" in text
    assert Stock.objects.get(variant=lamp).reserved == 0  # nothing held before "Continue to payment"

    checkout = start(shopper)
    assert Stock.objects.get(variant=lamp).reserved == 2
    pay_page = shopper.get(f"/checkout/{checkout.pk}/pay/")
    html = pay_page.content.decode()
    assert pay_page.status_code == 200
    assert "reserved for" in html
    for marker in ("data-sandbox-card-number", "data-sandbox-card-expiry", "data-sandbox-card-cvc"):
        tag = re.search(rf"<input[^>]*{marker}[^>]*>", html).group(0)
        assert "name=" not in tag  # never submitted by the browser
    assert 'name="payment_token"' in html
    assert "tok_wallet" in html
    assert "tok_bnpl" in html

    paid = pay(shopper, checkout, "tok_visa")
    order = Order.objects.get()
    assert paid.url == f"/orders/{order.number}/confirmation/"
    confirmation = shopper.get(paid.url)
    assert order.number in confirmation.content.decode()
    assert b"Alpha Goods" in confirmation.content
    assert b"Beta Wares" in confirmation.content
    assert b"What happens next" in confirmation.content
    assert order.status == Order.Status.CONFIRMED
    assert order.total == Decimal("63.07")

    detail = shopper.get(f"/orders/{order.number}/")
    assert detail.status_code == 200
    assert b"Timeline" in detail.content
    assert b"Confirmed" in detail.content
    assert b"Cancel order" in detail.content
    listing = shopper.get("/orders/")
    assert order.number in listing.content.decode()
    assert "€63.07" in listing.content.decode()


def test_a_double_submit_of_continue_to_payment_reuses_the_checkout(shopper, buyer, make_variant):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    choose(shopper, buyer)
    review = shopper.get("/checkout/review/")
    key = key_of(review, "/checkout/start/")

    first = shopper.post("/checkout/start/", {"idempotency_key": key})
    second = shopper.post("/checkout/start/", {"idempotency_key": key})

    assert first.url == second.url
    assert Checkout.objects.count() == 1
    assert Stock.objects.get(variant=variant).reserved == 1


def test_a_double_submit_of_pay_charges_once(shopper, buyer, make_variant):
    fill_cart(buyer, (make_variant(on_hand=3), 1))
    choose(shopper, buyer)
    checkout = start(shopper)
    page = shopper.get(f"/checkout/{checkout.pk}/pay/")
    data = {"idempotency_key": key_of(page, f"/checkout/{checkout.pk}/pay/"), "payment_token": "tok_visa"}

    first = shopper.post(f"/checkout/{checkout.pk}/pay/", data)
    second = shopper.post(f"/checkout/{checkout.pk}/pay/", data)

    assert first.url == second.url == f"/orders/{Order.objects.get().number}/confirmation/"
    assert charges_made() == 1


def test_decline_keeps_the_reservation_then_another_card_succeeds(shopper, buyer, make_variant):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 2))
    choose(shopper, buyer)
    checkout = start(shopper)

    declined = pay(shopper, checkout, "tok_chargeDeclined")

    assert declined.status_code == 402
    assert b"Your card was declined. Try another card." in declined.content
    assert b"data-sandbox-card-number" in declined.content  # the same page, to try again
    checkout.refresh_from_db()
    assert checkout.status == Checkout.Status.RESERVED
    assert Stock.objects.get(variant=variant).reserved == 2

    paid = pay(shopper, checkout, "tok_mastercard")

    assert paid.status_code == 302
    assert Order.objects.get().status == Order.Status.CONFIRMED
    assert charges_made() == 1
    assert PaymentAttempt.objects.filter(checkout=checkout).count() == 2


def test_wallet_and_gateway_errors(shopper, buyer, make_variant):
    fill_cart(buyer, (make_variant(on_hand=3), 1))
    choose(shopper, buyer)
    checkout = start(shopper)

    unavailable = pay(shopper, checkout, "tok_gatewayError")
    assert unavailable.status_code == 503
    assert b"nothing was charged" in unavailable.content

    assert pay(shopper, checkout, "tok_wallet").status_code == 302
    assert Order.objects.get().payment_gateway == "sandbox"


def test_abandon_releases_the_stock_and_keeps_the_cart(shopper, buyer, make_variant):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 2))
    choose(shopper, buyer)
    checkout = start(shopper)
    assert Stock.objects.get(variant=variant).reserved == 2

    response = shopper.post(f"/checkout/{checkout.pk}/abandon/")

    assert response.url == "/cart/"
    assert Stock.objects.get(variant=variant).reserved == 0
    checkout.refresh_from_db()
    assert checkout.status == Checkout.Status.ABANDONED
    assert variant.sku in shopper.get("/cart/").content.decode()
    gone = shopper.get(f"/checkout/{checkout.pk}/pay/")
    assert gone.status_code == 410
    assert b"abandoned" in gone.content


def test_an_expired_reservation_says_so_with_a_button_to_start_again(shopper, buyer, make_variant):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 1))
    choose(shopper, buyer)
    checkout = start(shopper)
    page = shopper.get(f"/checkout/{checkout.pk}/pay/")
    key = key_of(page, f"/checkout/{checkout.pk}/pay/")
    Checkout.objects.filter(pk=checkout.pk).update(expires_at=checkout.expires_at.replace(year=2000))

    response = shopper.post(f"/checkout/{checkout.pk}/pay/", {"idempotency_key": key, "payment_token": "tok_visa"})

    assert response.status_code == 410
    assert b"Your reservation lapsed" in response.content
    assert b'href="/checkout/review/"' in response.content
    assert Stock.objects.get(variant=variant).reserved == 0
    assert charges_made() == 0


def test_a_card_number_posted_as_the_token_is_refused_and_never_echoed_or_stored(shopper, buyer, make_variant):
    fill_cart(buyer, (make_variant(on_hand=3), 1))
    choose(shopper, buyer)
    checkout = start(shopper)

    for typed in (PAN, "4000 0566 5566 5556"):
        response = pay(shopper, checkout, typed)

        assert response.status_code == 400
        assert b"we never accept a card number" in response.content
        assert PAN.encode() not in response.content
        assert b"4000 0566" not in response.content
        assert b"5566 5556" not in response.content
    assert PaymentAttempt.objects.count() == 0
    checkout.refresh_from_db()
    assert checkout.status == Checkout.Status.RESERVED
    assert charges_made() == 0


def test_a_pay_form_without_a_token_says_what_to_do(shopper, buyer, make_variant):
    fill_cart(buyer, (make_variant(on_hand=3), 1))
    choose(shopper, buyer)
    checkout = start(shopper)

    response = pay(shopper, checkout, "")

    assert response.status_code == 400
    assert b"Enter your card details" in response.content


def test_another_buyers_checkout_and_order_are_not_found(client, buyer, make_variant):
    variant = make_variant(on_hand=3)
    order = order_through_checkout(buyer=buyer, items=[(variant, 1)])
    client.force_login(UserFactory())

    assert client.get(f"/checkout/{order.checkout_id}/pay/").status_code == 404
    assert client.post(f"/checkout/{order.checkout_id}/abandon/").status_code == 404
    assert client.get(f"/orders/{order.number}/").status_code == 404
    assert client.get(f"/orders/{order.number}/confirmation/").status_code == 404
    assert client.post(f"/orders/{order.number}/cancel/").status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


# --- the steps' errors -------------------------------------------------------------------------------


def test_a_new_address_with_missing_fields_shows_each_error_next_to_its_field(shopper, buyer, make_variant):
    fill_cart(buyer, (make_variant(), 1))

    response = shopper.post("/checkout/address/", {"address": "new", "full_name": "Ada", "country": "Germany"})

    assert response.status_code == 400
    html = response.content.decode()
    for field in ("line1", "postal_code", "city"):
        assert re.search(rf'id="id_{field}_error"><p class="field-error">This field is required', html), field
    assert 'id="id_country_error"' in html
    assert Address.objects.filter(user=buyer).count() == 1


def test_a_new_address_is_saved_to_the_account_and_used(shopper, buyer, make_variant):
    fill_cart(buyer, (make_variant(), 1))
    data = {
        "address": "new",
        "full_name": "Ada Lovelace",
        "line1": "12 Rue de Rivoli",
        "postal_code": "75001",
        "city": "Paris",
        "country": "fr",
    }

    response = shopper.post("/checkout/address/", data)

    assert response.url == "/checkout/shipping/"
    saved = Address.objects.get(user=buyer, city="Paris")
    assert saved.country == "FR"
    assert b"Paris" in shopper.get("/checkout/shipping/").content


def test_an_unknown_shipping_method_is_an_error_next_to_the_field(shopper, buyer, make_variant):
    fill_cart(buyer, (make_variant(), 1))
    address = Address.objects.get(user=buyer)
    shopper.post("/checkout/address/", {"address": str(address.pk)})

    response = shopper.post("/checkout/shipping/", {"shipping_method": "teleport"})

    assert response.status_code == 400
    assert b'id="id_shipping_method_error"' in response.content


def test_another_buyers_address_cannot_be_chosen(shopper, buyer, make_variant):
    fill_cart(buyer, (make_variant(), 1))

    response = shopper.post("/checkout/address/", {"address": str(AddressFactory().pk)})

    assert response.status_code == 400
    assert b'id="id_address_error"' in response.content


def test_an_empty_cart_goes_back_to_the_cart(shopper):
    assert shopper.get("/checkout/address/").url == "/cart/"


def test_the_summary_lists_price_changes_and_lines_without_enough_stock(shopper, buyer, make_variant):
    cheap = make_variant(price="10.00", on_hand=5)
    scarce = make_variant(price="5.00", on_hand=3)
    fill_cart(buyer, (cheap, 1), (scarce, 3))
    cheap.price = Decimal("12.00")
    cheap.save()
    Stock.objects.filter(variant=scarce).update(on_hand=1)
    choose(shopper, buyer)

    review = shopper.get("/checkout/review/")

    html = review.content.decode()
    assert "Prices changed since you added these" in html
    assert "€10.00" in html
    assert "€12.00" in html
    assert "Not enough stock" in html
    assert "only 1 left" in html
    assert re.search(r"<button[^>]*disabled[^>]*>Continue to payment", html)
    started = shopper.post("/checkout/start/", {"idempotency_key": key_of(review, "/checkout/start/")})
    assert started.url == "/checkout/review/"  # refused by the service as well: 409 out of stock
    assert Checkout.objects.count() == 0
    assert scarce.sku in str(list(shopper.get("/checkout/review/").context["messages"]))


def test_a_coupon_can_be_removed(shopper, buyer, make_variant):
    fill_cart(buyer, (make_variant(price="30.00"), 1))
    CouponFactory(code="SAVE")
    choose(shopper, buyer)
    shopper.post("/checkout/coupon/", {"code": "SAVE"})
    assert b"Remove coupon" in shopper.get("/checkout/review/").content

    shopper.post("/checkout/coupon/remove/")

    review = shopper.get("/checkout/review/")
    assert b"Remove coupon" not in review.content
    assert b"Discount" not in review.content


# --- order pages: cancel, return, query count --------------------------------------------------------


def test_cancel_button_cancels_restores_stock_and_shows_the_refund(shopper, buyer, make_variant):
    variant = make_variant(on_hand=4)
    order = order_through_checkout(buyer=buyer, items=[(variant, 2)])
    assert Stock.objects.get(variant=variant).on_hand == 2

    response = shopper.post(f"/orders/{order.number}/cancel/")

    assert response.url == f"/orders/{order.number}/"
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert Stock.objects.get(variant=variant).on_hand == 4
    page = shopper.get(response.url)
    assert b"Cancel order" not in page.content
    assert b"Refunds" in page.content
    assert b"refunded" in page.content


def test_cancel_after_shipping_is_refused_with_a_message(shopper, buyer, make_variant):
    order = order_through_checkout(buyer=buyer, items=[(make_variant(on_hand=4), 1)])
    services.sub_order_ship(sub_order=order.sub_orders.get(), carrier="DHL", tracking_number="JD0001")
    page = shopper.get(f"/orders/{order.number}/")
    assert b"Cancel order" not in page.content
    assert b"JD0001" in page.content
    assert b"DHL" in page.content

    response = shopper.post(f"/orders/{order.number}/cancel/", follow=True)

    assert b"can no longer be cancelled" in response.content
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_return_button_of_a_delivered_sub_order(shopper, buyer, make_variant):
    variant = make_variant(on_hand=4)
    order = order_through_checkout(buyer=buyer, items=[(variant, 3)])
    sub_order = order.sub_orders.get()
    line = sub_order.lines.get()
    assert b"Return items" not in shopper.get(f"/orders/{order.number}/").content
    services.sub_order_ship(sub_order=sub_order, carrier="DHL", tracking_number="JD0002")
    services.sub_order_deliver(sub_order=sub_order)
    page = shopper.get(f"/orders/{order.number}/")
    assert b"Return items" in page.content
    field = f"s{sub_order.pk}-line_{line.pk}"

    too_many = shopper.post(f"/orders/{order.number}/returns/", {"sub_order": sub_order.pk, field: "4"})
    assert too_many.status_code == 400
    assert b"You can return at most 3 of these." in too_many.content
    nothing = shopper.post(f"/orders/{order.number}/returns/", {"sub_order": sub_order.pk, field: "0"})
    assert nothing.status_code == 400
    assert b"Choose how many" in nothing.content

    response = shopper.post(
        f"/orders/{order.number}/returns/",
        {"sub_order": sub_order.pk, field: "2", f"s{sub_order.pk}-reason": "Too big"},
    )

    assert response.status_code == 302
    the_return = Return.objects.get()
    assert the_return.status == Return.Status.REQUESTED
    assert [(rl.order_line_id, rl.quantity) for rl in the_return.lines.all()] == [(line.pk, 2)]
    page = shopper.get(f"/orders/{order.number}/")
    assert b"Returns" in page.content
    assert b"Requested" in page.content
    assert b"Up to 1." in page.content  # one unit left to return


def _detail_queries(client, order) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/orders/{order.number}/").status_code == 200
    return len(queries)


def test_the_order_page_makes_the_same_queries_whatever_the_number_of_lines(shopper, buyer, make_variant):
    small = order_through_checkout(buyer=buyer, items=[(make_variant(on_hand=5), 1)])
    sellers = [SellerFactory(), SellerFactory()]
    big = order_through_checkout(
        buyer=buyer, items=[(make_variant(on_hand=5, seller=sellers[i % 2]), 1) for i in range(6)]
    )
    for order in (small, big):
        for sub_order in order.sub_orders.all():
            services.sub_order_ship(sub_order=sub_order, carrier="DHL", tracking_number=f"T{sub_order.pk}")
            services.sub_order_deliver(sub_order=sub_order)
        first = order.sub_orders.order_by("id").first()
        services.return_request(order=order, lines=[{"sku": first.lines.first().sku, "quantity": 1}], reason="x")
    _detail_queries(shopper, small)  # warm caches shared by every page (session, user)

    assert _detail_queries(shopper, big) == _detail_queries(shopper, small)
    assert SubOrder.objects.filter(order=big).count() > SubOrder.objects.filter(order=small).count() == 1
