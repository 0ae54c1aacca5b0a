"""Charges through the built-in sandbox gateway: outcomes per test token, idempotency (also under
concurrency), timeouts settled by reconciliation, refunds and transfers."""

from decimal import Decimal

import pytest

from payments import selectors, services
from payments.events import PAYMENT_SETTLED
from payments.models import PaymentAttempt, PaymentIntent, Refund, SandboxOperation, Transfer
from payments.tasks import payments_reconcile_task
from payments.tests.conftest import run_concurrently
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


def charge(key="pay-1", token="tok_visa", amount="42.50", **kwargs):  # noqa: S107
    return services.payment_charge(
        idempotency_key=key, reference=kwargs.pop("reference", "ORDER-1"), amount=Decimal(amount),
        currency=kwargs.pop("currency", "EUR"), token=token, **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("token", "method"),
    [("tok_visa", "card"), ("tok_mastercard", "card"), ("tok_wallet", "wallet"), ("tok_bnpl", "bnpl")],
)
def test_succeeding_tokens_charge_once_and_record_the_method(token, method):
    outcome = charge(token=token)

    assert (outcome.status, outcome.gateway, outcome.decline_code) == ("succeeded", "sandbox", "")
    intent = PaymentIntent.objects.get(pk=outcome.intent_id)
    assert (intent.status, intent.method, intent.amount, intent.currency) == (
        "succeeded",
        method,
        Decimal("42.50"),
        "EUR",
    )
    assert intent.gateway_reference.startswith("sb_ch_")
    assert SandboxOperation.objects.get(kind="charge").amount == Decimal("42.50")
    assert list(intent.attempts.values_list("gateway", "operation", "outcome")) == [("sandbox", "charge", "succeeded")]


@pytest.mark.parametrize(
    ("token", "code"), [("tok_chargeDeclined", "card_declined"), ("tok_insufficientFunds", "insufficient_funds")]
)
def test_declining_tokens_give_their_decline_code(token, code):
    outcome = charge(token=token)

    assert (outcome.status, outcome.decline_code) == ("declined", code)
    assert outcome.message
    assert PaymentIntent.objects.get(pk=outcome.intent_id).status == "declined"
    assert PaymentAttempt.objects.get().outcome == "declined"


def test_a_token_the_gateway_never_issued_is_declined():
    assert charge(token="tok_madeUp").decline_code == "invalid_token"


def test_the_same_key_again_returns_the_stored_outcome_without_a_gateway_call():
    first = charge(key="pay-again")
    second = charge(key="pay-again")

    assert second == first
    assert SandboxOperation.objects.count() == 1
    assert PaymentAttempt.objects.count() == 1
    assert PaymentIntent.objects.count() == 1


def test_a_declined_payment_is_replayed_as_declined_and_a_new_key_may_pay():
    assert charge(key="try-1", token="tok_chargeDeclined").status == "declined"
    assert charge(key="try-1", token="tok_visa").status == "declined"  # the key's answer is fixed
    assert charge(key="try-2", token="tok_visa").status == "succeeded"
    assert SandboxOperation.objects.filter(kind="charge").count() == 2


def test_the_same_key_for_another_amount_is_refused():
    charge(key="pay-x", amount="10.00")

    with pytest.raises(services.IdempotencyKeyReused):
        charge(key="pay-x", amount="11.00")


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_make_one_gateway_call():
    outcomes = run_concurrently(8, lambda i: charge(key="pay-race"))

    assert all(isinstance(o, services.PaymentOutcome) for o in outcomes), outcomes
    assert {(o.intent_id, o.status) for o in outcomes} == {(outcomes[0].intent_id, "succeeded")}
    assert SandboxOperation.objects.filter(kind="charge").count() == 1
    assert PaymentAttempt.objects.filter(operation="charge").count() == 1


def test_a_gateway_error_with_no_other_gateway_is_unavailable_and_charges_nothing():
    outcome = charge(token="tok_gatewayError")

    assert outcome.status == "unavailable"
    assert PaymentIntent.objects.get().status == "failed"
    attempt = PaymentAttempt.objects.get()
    assert (attempt.outcome, attempt.http_status) == ("error", 502)
    assert not SandboxOperation.objects.exists()


def test_an_unconfigured_gateway_is_skipped(settings):
    settings.PAYMENT_GATEWAYS = ["stripe", "sandbox"]  # no STRIPE_SECRET_KEY

    outcome = charge()

    assert (outcome.status, outcome.gateway) == ("succeeded", "sandbox")


def test_a_timeout_leaves_the_payment_unknown_and_reconciliation_settles_it_without_charging_again():
    outcome = charge(key="pay-slow", token="tok_timeout")
    assert (outcome.status, outcome.gateway) == ("unknown", "sandbox")
    assert PaymentIntent.objects.get().status == "unknown"
    assert PaymentAttempt.objects.get().outcome == "timeout"

    assert payments_reconcile_task.delay().get() == 1

    intent = PaymentIntent.objects.get()
    assert intent.status == "succeeded"
    assert intent.gateway_reference == SandboxOperation.objects.get().reference
    assert SandboxOperation.objects.filter(kind="charge").count() == 1
    assert list(intent.attempts.values_list("operation", "outcome")) == [("charge", "timeout"), ("lookup", "succeeded")]
    event = OutboxEvent.objects.get(name=PAYMENT_SETTLED)
    assert event.payload == {"intent_id": intent.pk, "reference": "ORDER-1", "status": "succeeded"}
    assert charge(key="pay-slow", token="tok_timeout").status == "succeeded"  # the replay sees it settled


def test_reconciliation_leaves_young_intents_alone(settings):
    settings.PAYMENT_RECONCILE_AFTER = 3600
    charge(key="pay-young", token="tok_timeout")

    assert services.payments_reconcile() == 0
    assert PaymentIntent.objects.get().status == "unknown"


def test_an_intent_whose_call_never_started_settles_as_unavailable():
    intent = PaymentIntent.objects.create(
        idempotency_key="crashed", reference="ORDER-9", amount=Decimal("5.00"), currency="EUR", payment_token="tok_visa"
    )
    assert [i.pk for i in selectors.payment_intents_unsettled(older_than=intent.updated_at.replace(year=2100))] == [
        intent.pk
    ]

    outcome = services.payment_settle(intent_id=intent.pk)

    assert outcome.status == "unavailable"
    assert not SandboxOperation.objects.exists()
    assert OutboxEvent.objects.get(name=PAYMENT_SETTLED).payload["status"] == "unavailable"


def test_an_intent_cut_off_mid_call_is_not_charged_again_by_a_retry_but_by_nobody_until_reconciled():
    intent = PaymentIntent.objects.create(
        idempotency_key="cut-off",
        reference="ORDER-1",
        amount=Decimal("42.50"),
        currency="EUR",
        payment_token="tok_visa",
    )
    PaymentAttempt.objects.create(intent=intent, gateway="sandbox", operation="charge")  # started, never finished

    assert charge(key="cut-off").status == "unknown"
    assert not SandboxOperation.objects.exists()
    assert services.payment_settle(intent_id=intent.pk).status == "unavailable"  # the sandbox never saw it


def test_selectors_list_a_references_payments_and_gateway_stats():
    charge(key="a", token="tok_chargeDeclined")
    charge(key="b", token="tok_gatewayError")
    charge(key="c")

    assert [i.idempotency_key for i in selectors.payment_intents_for_reference(reference="ORDER-1")] == ["c", "b", "a"]
    stats = selectors.gateway_stats()["sandbox"]
    assert (stats["calls"], stats["successes"], stats["errors"]) == (3, 2, 1)
    assert stats["breaker"]["state"] == "closed"


# --- refunds ----------------------------------------------------------------------------------------


def test_partial_refunds_up_to_the_amount_captured():
    intent_id = charge(amount="30.00").intent_id

    first = services.refund_create(intent_id=intent_id, amount=Decimal("10.00"), idempotency_key="r1")
    second = services.refund_create(intent_id=intent_id, amount=Decimal("20.00"), idempotency_key="r2")

    assert (first.status, first.amount, second.status) == ("succeeded", Decimal("10.00"), "succeeded")
    with pytest.raises(services.RefundNotAllowed, match=r"0\.00 EUR"):
        services.refund_create(intent_id=intent_id, amount=Decimal("0.01"), idempotency_key="r3")
    assert SandboxOperation.objects.filter(kind="refund").count() == 2


def test_a_refund_is_idempotent_by_key():
    intent_id = charge(amount="30.00").intent_id

    first = services.refund_create(intent_id=intent_id, amount=Decimal("30.00"), idempotency_key="r1")
    again = services.refund_create(intent_id=intent_id, amount=Decimal("30.00"), idempotency_key="r1")

    assert again == first
    assert Refund.objects.count() == 1
    assert SandboxOperation.objects.filter(kind="refund").count() == 1
    with pytest.raises(services.IdempotencyKeyReused):
        services.refund_create(intent_id=intent_id, amount=Decimal("5.00"), idempotency_key="r1")


def test_only_a_captured_payment_can_be_refunded():
    intent_id = charge(token="tok_chargeDeclined").intent_id

    with pytest.raises(services.RefundNotAllowed):
        services.refund_create(intent_id=intent_id, amount=Decimal("1.00"), idempotency_key="r1")


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_never_exceed_the_amount_captured():
    intent_id = charge(amount="50.00").intent_id

    results = run_concurrently(
        6, lambda i: services.refund_create(intent_id=intent_id, amount=Decimal("20.00"), idempotency_key=f"r{i}")
    )

    refunded = [r for r in results if isinstance(r, services.RefundOutcome)]
    refused = [r for r in results if isinstance(r, services.RefundNotAllowed)]
    assert (len(refunded), len(refused)) == (2, 4), results
    assert sum(r.amount for r in refunded) == Decimal("40.00")
    assert SandboxOperation.objects.filter(kind="refund", status="succeeded").count() == 2


# --- transfers --------------------------------------------------------------------------------------


def test_a_transfer_is_made_once_per_key():
    first = services.transfer_create(
        idempotency_key="payout-1", destination="seller-7", amount=Decimal("90.00"), currency="EUR"
    )
    again = services.transfer_create(
        idempotency_key="payout-1", destination="seller-7", amount=Decimal("90.00"), currency="EUR"
    )

    assert first == again
    assert first.status == "succeeded"
    assert Transfer.objects.get().gateway_reference.startswith("sb_tr_")
    assert SandboxOperation.objects.filter(kind="transfer").count() == 1


def test_a_forgone_key_answers_a_late_charge_without_calling_a_gateway():
    assert (
        services.payment_charge_forgo(idempotency_key="pay-1", reference="ORDER-1", amount="42.50", currency="EUR")
        is None
    )

    late = charge()

    assert late.status == "unavailable"
    assert not SandboxOperation.objects.exists()
    assert not PaymentAttempt.objects.exists()


def test_forgoing_a_key_a_charge_used_returns_that_charge():
    charged = charge()

    outcome = services.payment_charge_forgo(
        idempotency_key="pay-1", reference="ORDER-1", amount="42.50", currency="EUR"
    )

    assert outcome == charged
    assert SandboxOperation.objects.filter(kind="charge").count() == 1
