"""The checkout and order endpoints of API.md, over HTTP with the buyer's JWT."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import AddressFactory, UserFactory
from inventory.models import Stock
from orders.models import Checkout, Order
from orders.tests.conftest import charges_made, fill_cart
from promotions.tests.factories import CouponFactory
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db

PAN = "4242424242424242"


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def api(buyer):
    return client_for(buyer)


def start(api, key="start-1", **body):
    body.setdefault("shipping_method", "standard")
    return api.post("/api/v1/checkout/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def pay(api, checkout_id, key="pay-1", token="tok_visa", **body):  # noqa: S107
    return api.post(
        f"/api/v1/checkout/{checkout_id}/pay/",
        {"payment_token": token, **body},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_shipping_methods_are_listed_with_their_base_price(api_client):
    response = api_client.get("/api/v1/checkout/shipping-methods/")

    assert response.status_code == 200
    assert [(m["code"], m["price"], m["currency"]) for m in response.json()] == [
        ("standard", "4.90", "EUR"),
        ("express", "9.90", "EUR"),
    ]


def test_start_reserves_and_answers_the_totals_and_a_replay_answers_200(api, buyer, make_variant):
    variant = make_variant(price="12.50", on_hand=4, weight_grams=1500)
    fill_cart(buyer, (variant, 2))

    response = start(api, shipping_method="express")
    again = start(api, shipping_method="express")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "reserved"
    assert (body["subtotal"], body["discount"], body["shipping"], body["tax"]) == ("25.00", "0.00", "14.40", "0.00")
    assert body["total"] == "39.40"  # express: 9.90 + 3 started kilograms x 1.50
    assert body["packages"][0]["shipping"] == "14.40"
    assert body["lines"][0]["sku"] == variant.sku
    assert body["expires_at"]
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert Stock.objects.get(variant=variant).reserved == 2


def test_start_with_a_new_address_snapshots_it(api, buyer, make_variant):
    fill_cart(buyer, (make_variant(), 1))
    address = {"full_name": "Ada", "line1": "2 Rue", "city": "Paris", "postal_code": "75001", "country": "fr"}

    response = start(api, address=address)

    assert response.status_code == 201
    assert response.json()["address"]["country"] == "FR"


def test_start_refusals(api, buyer, make_variant):
    other_address = AddressFactory()
    assert start(api).json()["detail"] == "Your cart is empty."
    assert start(api).status_code == 400
    fill_cart(buyer, (make_variant(), 1))
    missing_key = api.post("/api/v1/checkout/", {"shipping_method": "standard"}, format="json")
    assert missing_key.status_code == 400
    assert "idempotency_key" in missing_key.json()["fields"]
    unknown_method = start(api, key="a", shipping_method="teleport")
    assert (unknown_method.status_code, list(unknown_method.json()["fields"])) == (400, ["shipping_method"])
    unknown_coupon = start(api, key="b", coupon="NOPE")
    assert (unknown_coupon.status_code, list(unknown_coupon.json()["fields"])) == (400, ["coupon"])
    not_mine = start(api, key="c", address_id=other_address.pk)
    assert (not_mine.status_code, list(not_mine.json()["fields"])) == (400, ["address_id"])
    assert Checkout.objects.count() == 0


def test_start_out_of_stock_is_409_with_the_skus(api, buyer, make_variant):
    variant = make_variant(on_hand=2)
    fill_cart(buyer, (variant, 2))
    Stock.objects.filter(variant=variant).update(on_hand=1)

    response = start(api)

    assert response.status_code == 409
    assert response.json()["error"] == "out_of_stock"
    assert response.json()["skus"] == [variant.sku]


def test_price_change_since_the_cart_is_charged_at_the_current_price_and_listed(api, buyer, make_variant):
    variant = make_variant(price="10.00")
    fill_cart(buyer, (variant, 1))
    variant.price = Decimal("12.00")
    variant.save()

    body = start(api).json()

    assert body["price_changes"] == [{"sku": variant.sku, "old": "10.00", "new": "12.00"}]
    assert body["subtotal"] == "12.00"


def test_pay_confirms_with_201_and_the_same_key_answers_the_same(api, buyer, make_variant):
    variant = make_variant(on_hand=2)
    fill_cart(buyer, (variant, 1))
    checkout_id = start(api).json()["id"]

    first = pay(api, checkout_id)
    again = pay(api, checkout_id)

    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["status"] == "confirmed"
    assert body["order_number"].startswith("SHP-")
    assert body["sub_orders"][0]["lines"] == [{"sku": variant.sku, "quantity": 1, "unit_price": "10.00"}]
    assert again.status_code == 201
    assert again.json() == body
    assert charges_made() == 1


def test_decline_is_402_and_another_card_with_a_new_key_pays(api, buyer, make_variant):
    fill_cart(buyer, (make_variant(), 1))
    checkout_id = start(api).json()["id"]

    declined = pay(api, checkout_id, key="1", token="tok_chargeDeclined")
    paid = pay(api, checkout_id, key="2", token="tok_visa")

    assert declined.status_code == 402
    assert declined.json()["error"] == "payment_declined"
    assert paid.status_code == 201


def test_pay_after_expiry_is_410(api, buyer, make_variant):
    fill_cart(buyer, (make_variant(), 1))
    checkout_id = start(api).json()["id"]
    Checkout.objects.filter(pk=checkout_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = pay(api, checkout_id)

    assert response.status_code == 410
    assert response.json()["error"] == "expired"


def test_all_gateways_unavailable_is_503_and_the_checkout_stays_open(api, buyer, make_variant, settings):
    settings.PAYMENT_GATEWAYS = ["sandbox"]
    fill_cart(buyer, (make_variant(), 1))
    checkout_id = start(api).json()["id"]

    response = pay(api, checkout_id, token="tok_gatewayError")

    assert response.status_code == 503
    assert response.json()["error"] == "payment_unavailable"
    assert Checkout.objects.get(pk=checkout_id).status == "reserved"


def test_delete_abandons_and_releases_at_once(api, buyer, make_variant):
    variant = make_variant(on_hand=2)
    fill_cart(buyer, (variant, 2))
    checkout_id = start(api).json()["id"]

    response = api.delete(f"/api/v1/checkout/{checkout_id}/")

    assert response.status_code == 200
    assert response.json()["status"] == "abandoned"
    assert Stock.objects.get(variant=variant).reserved == 0


def test_another_buyers_checkout_and_order_are_404(api, buyer, make_variant):
    fill_cart(buyer, (make_variant(), 1))
    checkout_id = start(api).json()["id"]
    number = pay(api, checkout_id).json()["order_number"]
    stranger = client_for(UserFactory())

    assert stranger.get(f"/api/v1/checkout/{checkout_id}/").status_code == 404
    assert stranger.delete(f"/api/v1/checkout/{checkout_id}/").status_code == 404
    assert pay(stranger, checkout_id, key="x").status_code == 404
    assert stranger.get(f"/api/v1/orders/{number}/").status_code == 404
    assert stranger.post(f"/api/v1/orders/{number}/cancel/").status_code == 404
    assert stranger.get("/api/v1/orders/").json()["count"] == 0


def test_orders_list_and_detail_with_timeline(api, buyer, make_variant):
    fill_cart(buyer, (make_variant(), 1), (make_variant(), 1))
    number = pay(api, start(api).json()["id"]).json()["order_number"]

    listing = api.get("/api/v1/orders/").json()
    detail = api.get(f"/api/v1/orders/{number}/").json()

    assert [order["number"] for order in listing["results"]] == [number]
    assert detail["status"] == "confirmed"
    assert len(detail["sub_orders"]) == 2
    assert [event["status"] for event in detail["events"] if event["sub_order"] is None] == [
        "pending_payment",
        "confirmed",
    ]
    assert detail["returns"] == []


def test_cancel_restores_stock_and_refunds_then_a_second_cancel_is_409(api, buyer, make_variant):
    variant = make_variant(on_hand=3)
    fill_cart(buyer, (variant, 2))
    number = pay(api, start(api).json()["id"]).json()["order_number"]
    assert Stock.objects.get(variant=variant).on_hand == 1

    response = api.post(f"/api/v1/orders/{number}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert Stock.objects.get(variant=variant).on_hand == 3
    order = Order.objects.get(number=number)
    assert order.refunded_total == order.total
    assert api.post(f"/api/v1/orders/{number}/cancel/").status_code == 409


def test_return_of_an_undelivered_order_is_409_and_bad_lines_are_400(api, buyer, make_variant):
    variant = make_variant()
    fill_cart(buyer, (variant, 1))
    number = pay(api, start(api).json()["id"]).json()["order_number"]

    not_delivered = api.post(
        f"/api/v1/orders/{number}/returns/", {"lines": [{"sku": variant.sku, "quantity": 1}]}, format="json"
    )
    no_lines = api.post(f"/api/v1/orders/{number}/returns/", {"lines": []}, format="json")

    assert not_delivered.status_code == 409
    assert not_delivered.json()["error"] == "conflict"
    assert no_lines.status_code == 400


def test_coupon_discount_is_applied_and_consumed(api, buyer, make_variant):
    CouponFactory(code="TENOFF", kind="fixed", value=Decimal("5.00"))
    fill_cart(buyer, (make_variant(price="20.00"), 1))

    body = start(api, coupon="tenoff").json()
    paid = pay(api, body["id"])

    assert (body["discount"], body["total"]) == ("5.00", "19.90")  # 20 - 5 + 4.90 shipping
    assert paid.status_code == 201
    assert paid.json()["total"] == "19.90"


def test_a_card_number_posted_as_token_is_refused_and_never_stored_logged_or_echoed(api, buyer, make_variant, caplog):
    caplog.set_level(logging.DEBUG)
    fill_cart(buyer, (make_variant(), 1))
    checkout_id = start(api).json()["id"]

    responses = [
        pay(api, checkout_id, key="k1", token=PAN),
        pay(api, checkout_id, key="k2", token="4242 4242 4242 4242"),
        pay(api, checkout_id, key="k3", token=f"tok_{PAN}"),
    ]

    for response in responses:
        assert response.status_code == 400
        assert response.json()["error"] == "invalid"
        assert "payment_token" in response.json()["fields"]
        assert PAN not in response.content.decode()
        assert "4242 4242" not in response.content.decode()
    assert PAN not in caplog.text
    assert "4242 4242" not in caplog.text
    for app_label in ("orders", "payments"):
        for model in apps.get_app_config(app_label).get_models():
            for row in model.objects.values():
                assert PAN not in str(row), f"{model.__name__} holds a card number"
                assert "4242 4242" not in str(row)
    assert not any(PAN in str(payload) for payload in OutboxEvent.objects.values_list("payload", flat=True))
    assert Checkout.objects.get(pk=checkout_id).status == "reserved"
    assert pay(api, checkout_id, key="k4").status_code == 201


def test_an_unknown_gateway_or_a_malformed_token_is_400_and_stores_nothing(api, buyer, make_variant):
    fill_cart(buyer, (make_variant(), 1))
    checkout_id = start(api).json()["id"]

    unknown_gateway = pay(api, checkout_id, key="a", gateway="paypal")
    spaced_token = pay(api, checkout_id, key="b", token="tok visa")

    assert (unknown_gateway.status_code, list(unknown_gateway.json()["fields"])) == (400, ["gateway"])
    assert (spaced_token.status_code, list(spaced_token.json()["fields"])) == (400, ["payment_token"])
    assert not Order.objects.exists()
    assert Checkout.objects.get(pk=checkout_id).attempts.count() == 0
