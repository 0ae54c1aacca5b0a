"""The circuit breaker per gateway (opens on errors, skips for a cool-down, half-opens with one
probe, fails open without Redis), and card numbers kept out of the shop."""

import logging
from decimal import Decimal

import pytest
from django.db import connection
from django.http import JsonResponse
from django.urls import path

from payments import breaker, services
from payments.models import PaymentAttempt, SandboxOperation
from payments.redaction import looks_like_pan, redact
from payments.tests.fake_gateways import FakeStripe
from shop.core.api import error_body

pytestmark = pytest.mark.django_db


def charge(key, token):
    return services.payment_charge(
        idempotency_key=key, reference="ORDER-1", amount=Decimal("10.00"), currency="EUR", token=token
    )


def test_the_breaker_opens_at_the_error_rate_skips_the_gateway_then_half_opens(clock, settings):
    settings.PAYMENT_BREAKER_MIN_CALLS = 4
    settings.PAYMENT_BREAKER_COOLDOWN = 30
    assert charge("ok-1", "tok_visa").status == "succeeded"
    assert charge("ok-2", "tok_chargeDeclined").status == "declined"  # a decline is the gateway working
    assert charge("err-1", "tok_gatewayError").status == "unavailable"
    assert breaker.state("sandbox")["state"] == "closed"  # 1 error in 3 calls
    assert charge("err-2", "tok_gatewayError").status == "unavailable"  # 2 of 4: the rate is reached

    assert breaker.state("sandbox")["state"] == "open"
    calls_before = PaymentAttempt.objects.count()
    skipped = charge("while-open", "tok_visa")
    assert skipped.status == "unavailable"
    assert PaymentAttempt.objects.count() == calls_before  # not called at all
    assert not SandboxOperation.objects.filter(idempotency_key="while-open").exists()

    clock.advance(29)
    assert charge("still-open", "tok_visa").status == "unavailable"
    clock.advance(2)  # the cool-down is over: one probe goes through
    assert breaker.allow("sandbox") is True
    assert breaker.allow("sandbox") is False  # a second caller waits for the probe's result
    breaker.record("sandbox", success=True)
    assert breaker.state("sandbox")["state"] == "closed"
    assert charge("after", "tok_visa").status == "succeeded"


def test_a_failed_probe_opens_the_breaker_for_another_cool_down(clock, settings):
    settings.PAYMENT_BREAKER_MIN_CALLS = 2
    for i in range(2):
        charge(f"err-{i}", "tok_gatewayError")
    assert breaker.state("sandbox")["state"] == "open"
    clock.advance(31)

    assert charge("probe", "tok_gatewayError").status == "unavailable"  # the probe fails

    assert breaker.state("sandbox")["state"] == "open"
    assert charge("skipped", "tok_visa").status == "unavailable"
    clock.advance(31)
    assert charge("probe-2", "tok_visa").status == "succeeded"
    assert breaker.state("sandbox")["state"] == "closed"


def test_an_open_breaker_sends_payments_to_the_next_gateway(clock, settings):
    settings.PAYMENT_BREAKER_MIN_CALLS = 2
    for i in range(2):
        charge(f"err-{i}", "tok_gatewayError")
    with FakeStripe() as stripe_server:
        settings.PAYMENT_GATEWAYS = ["sandbox", "stripe"]
        settings.STRIPE_SECRET_KEY = FakeStripe.api_key
        settings.STRIPE_API_BASE = stripe_server.url

        outcome = charge("next", "tok_visa")

    assert (outcome.status, outcome.gateway) == ("succeeded", "stripe")
    assert list(PaymentAttempt.objects.filter(intent_id=outcome.intent_id).values_list("gateway", flat=True)) == [
        "stripe"
    ]
    assert len(stripe_server.charges) == 1


def test_without_redis_the_breaker_fails_open(settings, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(breaker, "get_redis_connection", unreachable)
    breaker._scripts.clear()

    assert breaker.allow("sandbox") is True
    assert breaker.record("sandbox", success=False) is None
    assert charge("no-redis", "tok_visa").status == "succeeded"


# --- card numbers ------------------------------------------------------------------------------------

PANS = [
    "4242424242424242",
    "4242 4242 4242 4242",
    "4242-4242-4242-4242",
    "4000000000000002",
    "1234567890123",  # 13 digits, not Luhn-valid: refused all the same
    "5555555555554444000",  # 19 digits
    "tok_4111111111111111",
]


@pytest.mark.parametrize("pan", PANS)
def test_a_card_number_as_token_is_refused_and_stored_nowhere(pan, caplog):
    caplog.set_level(logging.DEBUG)

    with pytest.raises(services.InvalidPaymentToken) as refused:
        charge("pan-1", pan)

    digits = "".join(c for c in pan if c.isdigit())
    assert digits not in str(refused.value).replace(" ", "").replace("-", "")
    assert "card number" in str(refused.value)
    assert digits not in caplog.text.replace(" ", "").replace("-", "")
    assert_nowhere_in_payments_tables(digits)


def test_short_numbers_and_real_tokens_are_not_card_numbers():
    assert not looks_like_pan("tok_visa")
    assert not looks_like_pan("pm_1PqRsTuVwXyZ123456")
    assert not looks_like_pan("ORDER-000123456789")  # 12 digits
    assert redact("card 4242 4242 4242 4242 refused") == "card [redacted] refused"


def assert_nowhere_in_payments_tables(digits: str) -> None:
    """Scan every text column of every payments table for the digits (spaces and dashes removed)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_name LIKE 'payments_%%' "
            "AND data_type IN ('character varying', 'text', 'jsonb')"
        )
        columns = cursor.fetchall()
        assert columns
        for table, column in columns:
            cursor.execute(
                f"SELECT count(*) FROM {table} WHERE regexp_replace({column}::text, '[ -]', '', 'g') LIKE %s",  # noqa: S608
                [f"%{digits}%"],
            )
            assert cursor.fetchone()[0] == 0, f"{table}.{column} holds the card number"


def pay_view(request):
    """What a pay endpoint does with the token (the orders API does the same): 400 with the safe message."""
    import json

    body = json.loads(request.body)
    try:
        outcome = services.payment_charge(
            idempotency_key="api-1", reference="ORDER-1", amount=Decimal("10.00"), currency="EUR",
            token=body["payment_token"],
        )  # fmt: skip
    except services.InvalidPaymentToken as exc:
        return JsonResponse(error_body("invalid", str(exc), {"payment_token": [str(exc)]}), status=400)
    return JsonResponse({"status": outcome.status})


urlpatterns = [path("pay/", pay_view)]


@pytest.mark.urls(__name__)
def test_the_error_answer_never_echoes_the_card_number(client, caplog):
    response = client.post("/pay/", data={"payment_token": "4242 4242 4242 4242"}, content_type="application/json")

    assert response.status_code == 400
    assert "4242" not in response.content.decode()
    assert "4242" not in caplog.text
    assert response.json()["fields"]["payment_token"]
