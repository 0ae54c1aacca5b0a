from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD
from cart import selectors
from cart.models import DurableCart
from cart.selectors import GUEST_COOKIE, CartOwner

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"


def item(sku: str) -> str:
    return f"/api/v1/cart/items/{sku}/"


def is_error(response, status: int, code: str) -> bool:
    body = response.json()
    return response.status_code == status and body["error"] == code and isinstance(body["detail"], str)


def bearer(client: APIClient, user) -> APIClient:
    response = client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


def test_a_guest_adds_to_a_cart_named_by_a_signed_httponly_cookie(api_client, make_variant):
    variant = make_variant(price="12.00", title="Lamp")

    response = api_client.post(ITEMS, {"sku": variant.sku, "quantity": 2}, format="json")

    assert response.status_code == 201
    assert response.json()["items"] == [
        {
            "sku": variant.sku,
            "title": "Lamp",
            "url": f"/p/{variant.product.slug}/",
            "quantity": 2,
            "unit_price": "12.00",
            "current_price": "12.00",
            "price_changed": False,
            "line_total": "24.00",
            "currency": "EUR",
        }
    ]
    assert response.json()["subtotal"] == "24.00"
    assert response.json()["currency"] == "EUR"
    cookie = response.cookies[GUEST_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 30 * 24 * 3600
    assert ":" in cookie.value  # signed

    again = api_client.get(CART)  # the client sends the cookie back
    assert [line["quantity"] for line in again.json()["items"]] == [2]


def test_a_new_client_or_a_forged_cookie_sees_an_empty_cart(api_client, make_variant):
    variant = make_variant()
    api_client.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json")
    guest_id = selectors.guest_id_from_request(_request_with(api_client))
    assert guest_id

    assert APIClient().get(CART).json()["items"] == []
    forged = APIClient()
    forged.cookies[GUEST_COOKIE] = guest_id  # the id without its signature
    assert forged.get(CART).json() == {
        "items": [],
        "subtotal": "0.00",
        "currency": "EUR",
        "item_count": 0,
        "removed": [],
        "read_only": False,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sku": "NO-SUCH-SKU", "quantity": 1}, "sku"),
        ({"quantity": 1}, "sku"),
        ({"sku": "", "quantity": 1}, "sku"),
        ({"sku": None}, "sku"),
        ({"sku": "*", "quantity": 0}, "quantity"),
        ({"sku": "*", "quantity": -1}, "quantity"),
        ({"sku": "*", "quantity": "abc"}, "quantity"),
        ({"sku": "*", "quantity": 10**9}, "quantity"),
        ({"sku": "*", "quantity": 2.5}, "quantity"),
        ({"sku": "*", "quantity": None}, "quantity"),
        ({"sku": "*"}, "quantity"),
        ({"sku": ["*"], "quantity": 1}, "sku"),
    ],
)
def test_bad_input_is_400_in_the_error_format(api_client, make_variant, body, field):
    variant = make_variant(on_hand=10**6)
    body = {key: variant.sku if value == "*" else value for key, value in body.items()}

    response = api_client.post(ITEMS, body, format="json")

    assert is_error(response, 400, "invalid")
    assert field in response.json()["fields"]


def test_a_body_that_is_not_json_is_400(api_client):
    response = api_client.post(ITEMS, "not json", content_type="application/json")

    assert is_error(response, 400, "invalid")


def test_more_than_available_is_409_out_of_stock_with_the_skus(api_client, make_variant):
    variant = make_variant(on_hand=2)

    response = api_client.post(ITEMS, {"sku": variant.sku, "quantity": 3}, format="json")

    assert is_error(response, 409, "out_of_stock")
    assert response.json()["skus"] == [variant.sku]


def test_past_the_line_limit_is_409_conflict(api_client, make_variant, settings):
    settings.CART_MAX_LINES = 1
    first, second = make_variant(), make_variant()
    api_client.post(ITEMS, {"sku": first.sku, "quantity": 1}, format="json")

    assert is_error(api_client.post(ITEMS, {"sku": second.sku, "quantity": 1}, format="json"), 409, "conflict")


def test_patch_sets_the_quantity_and_zero_removes(api_client, make_variant):
    variant = make_variant()
    api_client.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json")

    response = api_client.patch(item(variant.sku), {"quantity": 4}, format="json")
    assert response.status_code == 200
    assert response.json()["items"][0]["quantity"] == 4

    response = api_client.patch(item(variant.sku), {"quantity": 0}, format="json")
    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.parametrize("quantity", [-1, "abc", 10**9, None])
def test_patch_with_a_bad_quantity_is_400(api_client, make_variant, quantity):
    variant = make_variant()
    api_client.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json")

    assert is_error(api_client.patch(item(variant.sku), {"quantity": quantity}, format="json"), 400, "invalid")


def test_delete_removes_a_line_and_a_line_not_in_the_cart_is_404(api_client, make_variant):
    variant, other = make_variant(), make_variant()
    assert is_error(api_client.delete(item(variant.sku)), 404, "not_found")  # no cart at all
    api_client.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json")

    response = api_client.delete(item(variant.sku))

    assert response.status_code == 200
    assert response.json()["items"] == []
    assert is_error(api_client.delete(item(variant.sku)), 404, "not_found")
    assert is_error(api_client.patch(item(other.sku), {"quantity": 1}, format="json"), 404, "not_found")


def test_a_price_change_shows_in_the_api(api_client, make_variant):
    variant = make_variant(price="10.00")
    api_client.post(ITEMS, {"sku": variant.sku, "quantity": 2}, format="json")
    variant.price = Decimal("9.00")
    variant.save()

    line = api_client.get(CART).json()["items"][0]

    assert (line["unit_price"], line["current_price"], line["price_changed"]) == ("10.00", "9.00", True)
    assert api_client.get(CART).json()["subtotal"] == "18.00"


def test_ttl_is_renewed_by_api_changes(api_client, make_variant, redis):
    variant = make_variant()
    api_client.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json")
    key = CartOwner(guest_id=selectors.guest_id_from_request(_request_with(api_client))).key

    redis.expire(key, 100)
    api_client.patch(item(variant.sku), {"quantity": 2}, format="json")

    assert redis.ttl(key) > 30 * 24 * 3600 - 5


def _request_with(client: APIClient):
    request = RequestFactory().get("/")
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    return request


# --- rate limits ---------------------------------------------------------------------------------


def test_adding_past_the_per_user_limit_is_429(api_client, make_variant, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "cart_add": "3/m"}
    variant = make_variant(on_hand=100)
    bearer(api_client, user)

    statuses = [api_client.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json") for _ in range(4)]

    assert [response.status_code for response in statuses] == [201, 201, 201, 429]
    assert is_error(statuses[-1], 429, "rate_limited")
    other = bearer(APIClient(), type(user).objects.create_user(email="other@example.com", password=PASSWORD))
    assert other.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json").status_code == 201


def test_adding_past_the_per_address_limit_is_429_whoever_asks(make_variant, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "cart_add_ip": "2/m"}
    variant = make_variant(on_hand=100)

    statuses = [APIClient().post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json") for _ in range(3)]

    assert [response.status_code for response in statuses] == [201, 201, 429]


def test_without_configured_limits_adding_is_not_limited(api_client, make_variant, settings):
    settings.RATE_LIMITS = {k: v for k, v in settings.RATE_LIMITS.items() if not k.startswith("cart_")}
    variant = make_variant()

    assert api_client.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json").status_code == 201


# --- authentication ------------------------------------------------------------------------------


def test_a_jwt_user_has_their_own_cart(api_client, make_variant, user):
    variant = make_variant()
    bearer(api_client, user)

    api_client.post(ITEMS, {"sku": variant.sku, "quantity": 2}, format="json")

    assert selectors.cart_line_count(owner=CartOwner(user=user)) == 1
    assert GUEST_COOKIE not in api_client.cookies


def test_session_writes_need_the_csrf_token(make_variant, user):
    variant = make_variant()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    refused = client.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json")

    assert is_error(refused, 403, "forbidden")
    client.get("/cart/")  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


def test_the_api_token_log_in_merges_the_guest_cart_before_answering(api_client, make_variant, user, redis):
    variant = make_variant()
    api_client.post(ITEMS, {"sku": variant.sku, "quantity": 2}, format="json")
    guest_key = CartOwner(guest_id=selectors.guest_id_from_request(_request_with(api_client))).key

    bearer(api_client, user)

    assert [(line.sku, line.quantity) for line in selectors.cart_get(owner=CartOwner(user=user)).lines] == [
        (variant.sku, 2)
    ]
    assert not redis.exists(guest_key)
    assert api_client.get(CART).json()["items"][0]["quantity"] == 2


# --- Redis down ----------------------------------------------------------------------------------


def test_without_redis_adding_answers_503_in_the_error_format(api_client, make_variant, redis_down):
    variant = make_variant()

    response = api_client.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json")

    assert is_error(response, 503, "unavailable")
    assert response.json()["detail"].startswith("Your cart is unavailable right now")
    assert GUEST_COOKIE not in response.cookies
    assert api_client.get(CART).json()["items"] == []  # a guest without a cart has nothing to lose


def test_without_redis_a_guest_with_a_cart_gets_503(make_variant, settings):
    variant = make_variant()
    client = APIClient()
    client.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json")
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}

    assert is_error(client.get(CART), 503, "unavailable")
    assert is_error(client.patch(item(variant.sku), {"quantity": 2}, format="json"), 503, "unavailable")
    assert is_error(client.delete(item(variant.sku)), 503, "unavailable")


def test_without_redis_a_durable_cart_is_served_read_only(make_variant, business_user, settings):
    variant = make_variant()
    client = bearer(APIClient(), business_user)
    client.post(ITEMS, {"sku": variant.sku, "quantity": 3}, format="json")
    assert DurableCart.objects.filter(user=business_user).exists()
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}

    response = client.get(CART)

    assert response.status_code == 200
    assert response.json()["read_only"] is True
    assert response.json()["items"][0]["quantity"] == 3
    assert is_error(client.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json"), 503, "unavailable")
