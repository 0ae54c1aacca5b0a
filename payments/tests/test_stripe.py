"""The Stripe adapter through the real ``stripe`` SDK against a local server speaking Stripe's API
(payments/tests/fake_gateways.py), and the Stripe webhook endpoint."""

import hashlib
import hmac
import json
import socket
import time
from decimal import Decimal

import pytest
from django.urls import reverse

from payments import services
from payments.events import PAYMENT_SETTLED
from payments.gateways.base import ChargeRequest
from payments.gateways.stripe import StripeGateway
from payments.models import PaymentAttempt, PaymentIntent, Refund, SandboxOperation, WebhookEvent
from payments.tasks import payments_reconcile_task
from payments.tests.fake_gateways import FakeStripe
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db
WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def stripe_server(settings):
    with FakeStripe() as server:
        settings.STRIPE_SECRET_KEY = FakeStripe.api_key
        settings.STRIPE_API_BASE = server.url
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.PAYMENT_GATEWAYS = ["stripe"]
        yield server


def charge(key="pay-1", token="tok_visa", amount="42.50"):  # noqa: S107
    return services.payment_charge(
        idempotency_key=key, reference="ORDER-1", amount=Decimal(amount), currency="EUR", token=token
    )


def test_a_charge_creates_a_confirmed_payment_intent_with_the_idempotency_key(stripe_server):
    outcome = charge()

    assert (outcome.status, outcome.gateway) == ("succeeded", "stripe")
    [(stripe_id, created)] = stripe_server.charges.items()
    assert (created["amount"], created["currency"], created["metadata"]["reference"]) == (4250, "eur", "ORDER-1")
    assert PaymentIntent.objects.get().gateway_reference == stripe_id
    method, path, headers = stripe_server.requests[0]
    assert (method, path, headers["idempotency-key"]) == ("POST", "/v1/payment_intents", "pay-1")


def test_a_decline_carries_stripes_decline_code(stripe_server):
    outcome = charge(token="tok_insufficientFunds")

    assert (outcome.status, outcome.decline_code) == ("declined", "insufficient_funds")
    intent = PaymentIntent.objects.get()
    assert intent.gateway_reference in stripe_server.charges
    assert PaymentAttempt.objects.get().http_status == 402


def test_an_unknown_payment_method_is_declined_not_an_error(stripe_server):
    outcome = charge(token="card_nonsense")

    assert (outcome.status, outcome.decline_code) == ("declined", "resource_missing")


def test_replaying_a_create_with_the_same_key_returns_the_first_intent_and_charges_once(stripe_server):
    gateway = StripeGateway.from_settings()
    request = ChargeRequest(
        idempotency_key="k-1", reference="ORDER-1", amount=Decimal("9.99"), currency="EUR", token="tok_visa"
    )

    first, second = gateway.charge(request), gateway.charge(request)

    assert first == second
    assert len(stripe_server.charges) == 1


def test_refunds_partial_then_the_rest_idempotent_by_key(stripe_server):
    intent_id = charge(amount="30.00").intent_id

    first = services.refund_create(intent_id=intent_id, amount=Decimal("10.00"), idempotency_key="r1")
    again = services.refund_create(intent_id=intent_id, amount=Decimal("10.00"), idempotency_key="r1")
    rest = services.refund_create(intent_id=intent_id, amount=Decimal("20.00"), idempotency_key="r2")

    assert first == again
    assert (first.status, rest.status) == ("succeeded", "succeeded")
    assert sorted(r["amount"] for r in stripe_server.refunds.values()) == [1000, 2000]
    assert Refund.objects.get(idempotency_key="r1").gateway_reference in stripe_server.refunds
    with pytest.raises(services.RefundNotAllowed):
        services.refund_create(intent_id=intent_id, amount=Decimal("0.01"), idempotency_key="r3")


def test_a_refused_refund_fails_and_frees_the_amount(stripe_server):
    intent = PaymentIntent.objects.create(
        idempotency_key="x", reference="R", amount=Decimal("5.00"), currency="EUR", payment_token="tok_visa",
        gateway="stripe", gateway_reference="pi_unknown", status="succeeded",
    )  # fmt: skip

    outcome = services.refund_create(intent_id=intent.pk, amount=Decimal("5.00"), idempotency_key="r-bad")

    assert outcome.status == "failed"


def test_a_server_error_fails_over_to_the_next_gateway_in_the_same_charge(stripe_server, settings):
    settings.PAYMENT_GATEWAYS = ["stripe", "sandbox"]
    stripe_server.mode = "error"

    outcome = charge()

    assert (outcome.status, outcome.gateway) == ("succeeded", "sandbox")
    intent = PaymentIntent.objects.get()
    assert list(intent.attempts.values_list("gateway", "outcome", "http_status")) == [
        ("stripe", "error", 500),
        ("sandbox", "succeeded", 200),
    ]
    assert not stripe_server.charges
    assert SandboxOperation.objects.filter(kind="charge").count() == 1


def test_the_sandbox_gateway_error_token_fails_over_to_stripe(stripe_server, settings):
    settings.PAYMENT_GATEWAYS = ["sandbox", "stripe"]

    outcome = charge(token="tok_gatewayError")

    assert (outcome.status, outcome.gateway) == ("succeeded", "stripe")
    assert list(PaymentAttempt.objects.values_list("gateway", "outcome")) == [
        ("sandbox", "error"),
        ("stripe", "succeeded"),
    ]


def test_a_gateway_that_refuses_connections_is_failed_over(stripe_server, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{closed_port}"
    settings.PAYMENT_GATEWAYS = ["stripe", "sandbox"]

    outcome = charge()

    assert outcome.gateway == "sandbox"
    assert PaymentAttempt.objects.filter(gateway="stripe").get().outcome == "error"


def test_a_timeout_is_unknown_never_failed_over_and_reconciliation_settles_it_by_key(stripe_server, settings):
    settings.PAYMENT_GATEWAYS = ["stripe", "sandbox"]
    settings.PAYMENT_GATEWAY_TIMEOUT = 1.0
    stripe_server.mode = "timeout"

    outcome = charge(key="pay-slow")

    assert outcome.status == "unknown"
    assert len(stripe_server.charges) == 1  # Stripe charged; the answer was lost
    assert not SandboxOperation.objects.exists()  # and nobody else was asked to charge
    assert PaymentAttempt.objects.get().outcome == "timeout"

    stripe_server.mode = "normal"
    payments_reconcile_task.delay()

    intent = PaymentIntent.objects.get()
    assert (intent.status, intent.gateway_reference) == ("succeeded", next(iter(stripe_server.charges)))
    assert len(stripe_server.charges) == 1
    creates = [r for r in stripe_server.requests if r[1] == "/v1/payment_intents"]
    assert {h["idempotency-key"] for _, _, h in creates} == {"pay-slow"}
    assert OutboxEvent.objects.get(name=PAYMENT_SETTLED).payload["status"] == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_the_intent_is_committed_before_the_gateway_is_called_and_survives_a_dropped_call(stripe_server):
    seen = []

    def on_request(method, path, headers):  # runs in the server's thread, on its own connection
        from django.db import connection

        seen.append(PaymentIntent.objects.filter(idempotency_key=headers.get("idempotency-key")).exists())
        connection.close()

    stripe_server.on_request = on_request
    stripe_server.mode = "drop"

    outcome = charge(key="pay-dropped")

    assert seen == [True]
    assert outcome.status == "unknown"
    assert PaymentIntent.objects.get().status == "unknown"


def test_a_processing_intent_is_settled_by_lookup_of_its_id(stripe_server):
    outcome = charge()
    intent = PaymentIntent.objects.get(pk=outcome.intent_id)
    intent.status = "processing"
    intent.save()
    stripe_server.charges[intent.gateway_reference]["status"] = "succeeded"

    assert services.payment_settle(intent_id=intent.pk).status == "succeeded"
    assert stripe_server.requests[-1][:2] == ("GET", f"/v1/payment_intents/{intent.gateway_reference}")


def test_transfers_through_stripe(stripe_server, settings):
    settings.PAYMENT_PAYOUT_GATEWAY = "stripe"

    outcome = services.transfer_create(
        idempotency_key="po-1", destination="acct_123", amount=Decimal("12.34"), currency="EUR"
    )

    assert outcome.status == "succeeded"
    [transfer] = stripe_server.transfers.values()
    assert (transfer["amount"], transfer["destination"]) == (1234, "acct_123")


# --- webhooks ---------------------------------------------------------------------------------------


def signed(payload: bytes, secret: str = WEBHOOK_SECRET) -> str:
    timestamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def post_event(client, event: dict, secret: str = WEBHOOK_SECRET):
    payload = json.dumps(event).encode()
    return client.post(
        reverse("api:payments-webhook-stripe"),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signed(payload, secret),
    )


def intent_event(event_id: str, intent: PaymentIntent, status: str) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": f"payment_intent.{status}",
        "data": {
            "object": {
                "id": intent.gateway_reference or "pi_x",
                "object": "payment_intent",
                "status": status,
                "metadata": {"idempotency_key": intent.idempotency_key},
            }
        },
    }


def test_a_webhook_with_a_bad_signature_is_refused(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET

    response = post_event(client, {"id": "evt_1", "type": "payment_intent.succeeded"}, secret="whsec_wrong")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert not WebhookEvent.objects.exists()


def test_a_webhook_settles_an_unknown_intent_once_and_ignores_the_duplicate(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    intent = PaymentIntent.objects.create(
        idempotency_key="wh-1", reference="ORDER-7", amount=Decimal("5.00"), currency="EUR",
        payment_token="tok_visa", gateway="stripe", status="unknown",
    )  # fmt: skip
    event = intent_event("evt_42", intent, "succeeded")

    first = post_event(client, event)
    second = post_event(client, event)

    assert (first.status_code, first.json()) == (200, {"received": True, "duplicate": False})
    assert (second.status_code, second.json()) == (200, {"received": True, "duplicate": True})
    intent.refresh_from_db()
    assert intent.status == "succeeded"
    assert WebhookEvent.objects.count() == 1
    [settled] = OutboxEvent.objects.filter(name=PAYMENT_SETTLED)
    assert settled.payload == {"intent_id": intent.pk, "reference": "ORDER-7", "status": "succeeded"}


def test_a_webhook_does_not_change_a_settled_payment(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    intent = PaymentIntent.objects.create(
        idempotency_key="wh-2", reference="ORDER-8", amount=Decimal("5.00"), currency="EUR",
        payment_token="tok_visa", gateway="stripe", gateway_reference="pi_8", status="succeeded",
    )  # fmt: skip

    assert post_event(client, intent_event("evt_43", intent, "canceled")).status_code == 200

    intent.refresh_from_db()
    assert intent.status == "succeeded"
    assert not OutboxEvent.objects.filter(name=PAYMENT_SETTLED).exists()
