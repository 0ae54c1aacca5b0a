"""The Adyen adapter through the real ``Adyen`` SDK against a local server speaking its Checkout API
(ADYEN_CHECKOUT_URL points the SDK's base URL at it)."""

from decimal import Decimal

import pytest

from payments import services
from payments.gateways.adyen import AdyenGateway
from payments.gateways.base import ChargeRequest
from payments.models import PaymentAttempt, PaymentIntent, SandboxOperation
from payments.tests.fake_gateways import FakeAdyen

pytestmark = pytest.mark.django_db


@pytest.fixture
def adyen_server(settings):
    with FakeAdyen() as server:
        settings.ADYEN_API_KEY = FakeAdyen.api_key
        settings.ADYEN_MERCHANT_ACCOUNT = "ShopECOM"
        settings.ADYEN_CHECKOUT_URL = server.checkout_url
        settings.PAYMENT_GATEWAYS = ["adyen"]
        yield server


def charge(key="pay-1", token="tok_visa", amount="42.50"):  # noqa: S107
    return services.payment_charge(
        idempotency_key=key, reference="ORDER-1", amount=Decimal(amount), currency="EUR", token=token
    )


def test_a_charge_is_authorised_with_the_idempotency_key_header(adyen_server):
    outcome = charge()

    assert (outcome.status, outcome.gateway) == ("succeeded", "adyen")
    [(psp, payment)] = adyen_server.charges.items()
    assert payment["amount"] == {"value": 4250, "currency": "EUR"}
    assert PaymentIntent.objects.get().gateway_reference == psp
    method, path, headers = adyen_server.requests[0]
    assert (method, path, headers["idempotency-key"]) == ("POST", "/v72/payments", "pay-1")


def test_a_refusal_maps_to_a_decline_code(adyen_server):
    outcome = charge(token="tok_insufficientFunds")

    assert (outcome.status, outcome.decline_code) == ("declined", "insufficient_funds")


def test_replaying_with_the_same_key_charges_once(adyen_server):
    gateway = AdyenGateway.from_settings()
    request = ChargeRequest(
        idempotency_key="k", reference="R", amount=Decimal("1.00"), currency="EUR", token="tok_visa"
    )

    assert gateway.charge(request) == gateway.charge(request)
    assert len(adyen_server.charges) == 1


def test_a_refund_is_accepted_and_pending_until_adyen_confirms_it(adyen_server):
    intent_id = charge(amount="30.00").intent_id

    outcome = services.refund_create(intent_id=intent_id, amount=Decimal("10.00"), idempotency_key="r1")

    assert outcome.status == "pending"
    [refund] = adyen_server.refunds.values()
    assert refund["amount"] == {"value": 1000, "currency": "EUR"}
    assert services.payments_reconcile() == 0
    assert len(adyen_server.refunds) == 1  # an accepted refund is not sent again


def test_a_server_error_fails_over_to_the_sandbox(adyen_server, settings):
    settings.PAYMENT_GATEWAYS = ["adyen", "sandbox"]
    adyen_server.mode = "error"

    outcome = charge()

    assert (outcome.status, outcome.gateway) == ("succeeded", "sandbox")
    assert list(PaymentAttempt.objects.values_list("gateway", "outcome", "http_status")) == [
        ("adyen", "error", 500),
        ("sandbox", "succeeded", 200),
    ]
    assert not adyen_server.charges


def test_a_timeout_is_unknown_and_reconciliation_replays_the_key_without_a_second_charge(adyen_server, settings):
    settings.PAYMENT_GATEWAYS = ["adyen", "sandbox"]
    settings.PAYMENT_GATEWAY_TIMEOUT = 1.0
    adyen_server.mode = "timeout"

    assert charge(key="pay-slow").status == "unknown"
    assert len(adyen_server.charges) == 1
    assert not SandboxOperation.objects.exists()

    adyen_server.mode = "normal"
    assert services.payments_reconcile() == 1

    intent = PaymentIntent.objects.get()
    assert (intent.status, intent.gateway_reference) == ("succeeded", next(iter(adyen_server.charges)))
    assert len(adyen_server.charges) == 1
