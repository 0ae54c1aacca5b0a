import json

import pytest
from django.contrib.auth import user_logged_in
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from accounts.models import Address, User
from accounts.tests.factories import PASSWORD, AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "a long and unusual passphrase 42"
ONE_MEGABYTE = "x" * (1024 * 1024)
ADDRESS = {
    "full_name": "Ada Buyer",
    "line1": "1 Market Street",
    "line2": "",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "de",
    "phone": "+49 30 1234567",
}


def _is_api_error(response) -> bool:
    return 400 <= response.status_code < 500 and {"error", "detail"} <= set(response.json())


# --- register -------------------------------------------------------------------------------------


def test_register_answers_201_with_id_and_email(api_client):
    response = api_client.post(
        reverse("api:auth-register"), {"email": "Ada@Example.com", "password": STRONG_PASSWORD}, format="json"
    )

    assert response.status_code == 201
    user = User.objects.get()
    assert response.json() == {"id": user.pk, "email": "ada@example.com"}
    assert user.password.startswith("argon2")


def test_register_refuses_a_weak_password_with_fields_password(api_client):
    response = api_client.post(
        reverse("api:auth-register"), {"email": "ada@example.com", "password": "password1"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "password" in response.json()["fields"]


def test_register_refuses_a_taken_email_with_fields_email(api_client):
    UserFactory(email="ada@example.com")

    response = api_client.post(
        reverse("api:auth-register"), {"email": "ADA@example.com", "password": STRONG_PASSWORD}, format="json"
    )

    assert response.status_code == 400
    assert "email" in response.json()["fields"]


def test_register_is_limited_per_client(api_client, settings):
    settings.RATE_LIMITS = settings.RATE_LIMITS | {"register": "2/h"}
    for n in range(2):
        api_client.post(
            reverse("api:auth-register"), {"email": f"u{n}@example.com", "password": STRONG_PASSWORD}, format="json"
        )

    response = api_client.post(
        reverse("api:auth-register"), {"email": "late@example.com", "password": STRONG_PASSWORD}, format="json"
    )

    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"


# --- token and refresh ----------------------------------------------------------------------------


def test_token_answers_an_access_and_refresh_pair_that_authenticates(api_client, user):
    response = api_client.post(reverse("api:auth-token"), {"email": user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert api_client.get(reverse("api:address-list")).status_code == 200


def test_token_with_a_wrong_password_is_401_unauthorized(api_client, user):
    response = api_client.post(reverse("api:auth-token"), {"email": user.email, "password": "wrong"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert isinstance(response.json()["detail"], str)


def test_token_sends_user_logged_in_with_the_django_request_before_answering(api_client, user):
    seen = []

    def receiver(sender, request, user, **kwargs):
        seen.append((isinstance(request, HttpRequest), request.COOKIES.get("guest_cart"), user))

    user_logged_in.connect(receiver)
    try:
        api_client.cookies["guest_cart"] = "guest-123"
        response = api_client.post(
            reverse("api:auth-token"), {"email": user.email, "password": PASSWORD}, format="json"
        )
    finally:
        user_logged_in.disconnect(receiver)

    assert response.status_code == 200
    assert seen == [(True, "guest-123", user)]
    user.refresh_from_db()
    assert user.last_login is not None


def test_token_does_not_send_user_logged_in_for_wrong_credentials(api_client, user):
    seen = []

    def receiver(sender, **kwargs):
        seen.append(sender)

    user_logged_in.connect(receiver)
    try:
        api_client.post(reverse("api:auth-token"), {"email": user.email, "password": "wrong"}, format="json")
    finally:
        user_logged_in.disconnect(receiver)

    assert seen == []


def test_token_is_refused_after_too_many_failures_even_with_the_right_password(api_client, user, settings):
    settings.RATE_LIMITS = settings.RATE_LIMITS | {"login": "3/h"}
    for _ in range(3):
        api_client.post(reverse("api:auth-token"), {"email": user.email, "password": "wrong"}, format="json")

    response = api_client.post(reverse("api:auth-token"), {"email": user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"


def test_failures_on_the_page_and_the_api_share_one_limit(api_client, client, user, settings):
    settings.RATE_LIMITS = settings.RATE_LIMITS | {"login": "3/h"}
    for _ in range(3):
        client.post(reverse("accounts:login"), {"email": user.email, "password": "wrong"})

    response = api_client.post(reverse("api:auth-token"), {"email": user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 429


def test_refresh_answers_a_new_access_token(api_client, user):
    pair = api_client.post(reverse("api:auth-token"), {"email": user.email, "password": PASSWORD}, format="json")

    response = api_client.post(reverse("api:auth-token-refresh"), {"refresh": pair.json()["refresh"]}, format="json")

    assert response.status_code == 200
    assert set(response.json()) >= {"access"}


@pytest.mark.parametrize("refresh", ["not-a-token", "a.b.c"])
def test_refresh_with_a_bad_token_is_401_with_a_plain_sentence(api_client, refresh):
    response = api_client.post(reverse("api:auth-token-refresh"), {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert not response.json()["detail"].startswith("{")


def test_refresh_for_a_deleted_account_is_401(api_client, user):
    pair = api_client.post(reverse("api:auth-token"), {"email": user.email, "password": PASSWORD}, format="json")
    user.delete()

    response = api_client.post(reverse("api:auth-token-refresh"), {"refresh": pair.json()["refresh"]}, format="json")

    assert response.status_code == 401


def test_a_bad_bearer_token_is_401_with_a_plain_sentence(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = api_client.get(reverse("api:address-list"))

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert not response.json()["detail"].startswith("{")


def test_a_stale_session_cookie_does_not_block_register_or_token(user):
    client = Client(enforce_csrf_checks=True)  # a browser with a session but no CSRF header
    client.force_login(user)

    token = client.post(
        reverse("api:auth-token"),
        json.dumps({"email": user.email, "password": PASSWORD}),
        content_type="application/json",
    )
    register = client.post(
        reverse("api:auth-register"),
        json.dumps({"email": "new@example.com", "password": STRONG_PASSWORD}),
        content_type="application/json",
    )

    assert (token.status_code, register.status_code) == (200, 201)


# --- bad input never gets a 500 -------------------------------------------------------------------

GOOD = {"email": "ada@example.com", "password": STRONG_PASSWORD}
BAD_JSON_BODIES = {
    "email is a number": {**GOOD, "email": 123},
    "email is a list": {**GOOD, "email": ["a"]},
    "email is an object": {**GOOD, "email": {"a": 1}},
    "email is null": {**GOOD, "email": None},
    "email is a boolean": {**GOOD, "email": True},
    "password is a number": {**GOOD, "password": 1234567890123},
    "password is a list": {**GOOD, "password": ["secret"]},
    "password is null": {**GOOD, "password": None},
    "email missing": {"password": STRONG_PASSWORD},
    "password missing": {"email": "ada@example.com"},
    "empty object": {},
    "empty strings": {"email": "", "password": ""},
    "1 MB email": {**GOOD, "email": ONE_MEGABYTE + "@example.com"},
    "1 MB password": {**GOOD, "password": ONE_MEGABYTE},
    "NUL character": {**GOOD, "email": "ada\x00@example.com"},
    "body is a list": [GOOD],
    "body is a string": "ada@example.com",
    "body is null": None,
    "body is a number": 42,
}
RAW_BODIES = {
    "not JSON": ("application/json", b"{email: ada"),
    "invalid UTF-8": ("application/json", b'{"email": "\xff\xfe"}'),
    "plain text": ("text/plain", b"email=ada@example.com"),
    "form encoded": ("application/x-www-form-urlencoded", b"email=ada%40example.com&password=x"),
    "empty body": ("application/json", b""),
}


@pytest.mark.parametrize("endpoint", ["api:auth-register", "api:auth-token"])
@pytest.mark.parametrize("body", list(BAD_JSON_BODIES.values()), ids=list(BAD_JSON_BODIES))
def test_bad_json_input_gets_the_api_error_format_with_a_4xx(api_client, endpoint, body):
    response = api_client.post(reverse(endpoint), json.dumps(body), content_type="application/json")

    assert _is_api_error(response), (response.status_code, response.content[:300])


@pytest.mark.parametrize("endpoint", ["api:auth-register", "api:auth-token"])
@pytest.mark.parametrize(("content_type", "body"), list(RAW_BODIES.values()), ids=list(RAW_BODIES))
def test_unreadable_input_gets_the_api_error_format_with_a_4xx(api_client, endpoint, content_type, body):
    response = api_client.post(reverse(endpoint), body, content_type=content_type)

    assert _is_api_error(response), (response.status_code, response.content[:300])


def test_a_one_megabyte_password_is_refused_by_length(api_client):
    response = api_client.post(
        reverse("api:auth-register"), {"email": "ada@example.com", "password": ONE_MEGABYTE}, format="json"
    )

    assert response.status_code == 400
    assert "password" in response.json()["fields"]


# --- addresses ------------------------------------------------------------------------------------


def test_create_address_answers_201_with_id_and_fields(jwt_client, user):
    response = jwt_client.post(reverse("api:address-list"), ADDRESS, format="json")

    assert response.status_code == 201
    body = response.json()
    address = Address.objects.get(user=user)
    assert body["id"] == address.pk
    assert body["country"] == "DE"
    assert body["is_default"] is True
    assert {key: body[key] for key in ADDRESS if key != "country"} == {
        k: v for k, v in ADDRESS.items() if k != "country"
    }


def test_list_addresses_shows_only_the_buyers_own(jwt_client, user):
    mine = AddressFactory(user=user)
    AddressFactory()

    response = jwt_client.get(reverse("api:address-list"))

    assert response.status_code == 200
    assert [address["id"] for address in response.json()["results"]] == [mine.pk]


def test_patch_address_changes_the_given_fields(jwt_client, user):
    address = AddressFactory(user=user, city="Berlin")

    response = jwt_client.patch(reverse("api:address-detail", args=[address.pk]), {"city": "Hamburg"}, format="json")

    assert response.status_code == 200
    assert response.json()["city"] == "Hamburg"
    address.refresh_from_db()
    assert address.city == "Hamburg"


def test_patch_is_default_moves_the_default(jwt_client, user):
    first = AddressFactory(user=user, is_default=True)
    second = AddressFactory(user=user)

    jwt_client.patch(reverse("api:address-detail", args=[second.pk]), {"is_default": True}, format="json")

    first.refresh_from_db()
    assert not first.is_default
    assert Address.objects.get(user=user, is_default=True) == second


def test_delete_address(jwt_client, user):
    address = AddressFactory(user=user)

    response = jwt_client.delete(reverse("api:address-detail", args=[address.pk]))

    assert response.status_code == 204
    assert not Address.objects.filter(pk=address.pk).exists()


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_buyers_address_is_404(jwt_client, method):
    theirs = AddressFactory(city="Berlin")

    response = getattr(jwt_client, method)(
        reverse("api:address-detail", args=[theirs.pk]), {"city": "Hamburg"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.city == "Berlin"


def test_addresses_need_authentication(api_client):
    response = api_client.get(reverse("api:address-list"))

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_addresses_with_a_session_need_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(reverse("api:address-list"), json.dumps(ADDRESS), content_type="application/json")

    assert response.status_code == 403
    assert not Address.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "D1"}, "country"),
        ({"country": "DEU"}, "country"),
        ({"country": 49}, "country"),
        ({"city": ["Berlin"]}, "city"),
        ({"full_name": 123}, "full_name"),
        ({"line1": "x" * 201}, "line1"),
        ({"postal_code": ONE_MEGABYTE}, "postal_code"),
        ({"phone": "call me maybe"}, "phone"),
        ({"city": None}, "city"),
    ],
)
def test_create_address_with_bad_input_is_400_with_the_field(jwt_client, change, field):
    response = jwt_client.post(reverse("api:address-list"), ADDRESS | change, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Address.objects.exists()


def test_create_address_without_required_fields_is_400(jwt_client):
    response = jwt_client.post(reverse("api:address-list"), {"full_name": "Ada"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) >= {"line1", "city", "postal_code", "country"}


def test_put_is_not_offered_on_an_address(jwt_client, user):
    address = AddressFactory(user=user)

    response = jwt_client.put(reverse("api:address-detail", args=[address.pk]), ADDRESS, format="json")

    assert response.status_code == 405
