"""Commands that move money: charges, their settlement, refunds and transfers (seller payouts).

Every operation carries an idempotency key and is stored before its gateway is called (DESIGN.md,
"Consistency rules"): a worker that dies mid-call leaves a row that reconciliation settles, and a
repeated call with the same key returns the stored result without calling the gateway again. Calls
with one key are serialized by a PostgreSQL advisory lock on the key, so two concurrent requests make
one gateway call; the lock is taken outside any transaction, so a row committed before the call stays
committed whatever the call does.

Call these outside a transaction (``transaction.atomic``): the intent must be committed before the
gateway moves money, or a crash mid-call would roll back the only record of the payment.

Routing: gateways are tried in the order of PAYMENT_GATEWAYS, skipping those whose circuit breaker is
open (payments.breaker). A gateway error (5xx, unreachable) fails over to the next gateway within the
same charge (same intent, a new attempt row); a timeout does not, since the first gateway may have
charged: the intent is left ``unknown`` for ``payment_settle``, which asks the gateway by idempotency
key and never charges.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from payments import breaker
from payments.events import PAYMENT_SETTLED
from payments.gateways import gateway_get
from payments.gateways.base import (
    ChargeRequest,
    ChargeResult,
    GatewayError,
    GatewayNotConfigured,
    GatewayTimeout,
    OperationNotSupported,
)
from payments.models import PaymentAttempt, PaymentIntent, Refund, Transfer, WebhookEvent
from payments.redaction import looks_like_pan, redact
from payments.selectors import UNSETTLED, payment_intents_unsettled
from shop.core.events import publish
from shop.core.money import to_decimal

logger = logging.getLogger(__name__)

KEY_MAX_LENGTH = 200  # PaymentIntent.idempotency_key, Refund.idempotency_key, Transfer.idempotency_key
TOKEN_MAX_LENGTH = 255
_TOKEN_CHARACTERS = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_METHODS = {"tok_wallet": PaymentIntent.Method.WALLET, "tok_bnpl": PaymentIntent.Method.BNPL}
# The status a caller sees for each intent status: open ones are "unknown" until settled.
_OUTCOME_STATUS = {
    PaymentIntent.Status.SUCCEEDED: "succeeded",
    PaymentIntent.Status.DECLINED: "declined",
    PaymentIntent.Status.FAILED: "unavailable",
    PaymentIntent.Status.PENDING: "unknown",
    PaymentIntent.Status.PROCESSING: "unknown",
    PaymentIntent.Status.UNKNOWN: "unknown",
}


@dataclass(frozen=True)
class PaymentOutcome:
    intent_id: int
    status: str  # "succeeded" | "declined" | "unknown" | "unavailable"
    gateway: str
    decline_code: str = ""
    message: str = ""


@dataclass(frozen=True)
class RefundOutcome:
    refund_id: int
    status: str  # "succeeded" | "failed" | "pending"
    amount: Decimal


@dataclass(frozen=True)
class TransferOutcome:
    transfer_id: int
    status: str  # "succeeded" | "failed" | "pending"
    amount: Decimal


class InvalidPaymentToken(ValueError):
    """The token is not one a gateway could have issued. The message is safe to show; it never
    contains the token."""


class IdempotencyKeyReused(ValueError):
    """The key was used before for a different payment (another reference, amount or currency)."""


class RefundNotAllowed(ValueError):
    """The payment cannot be refunded (not captured) or not by that much (more than is left)."""


# --- validation -----------------------------------------------------------------------------------


def payment_token_validate(*, token: Any) -> str:
    """The token if it could be a gateway's token; ``InvalidPaymentToken`` otherwise. A card number
    (13-19 digits, spaced or not, Luhn-valid or not) is refused with its own message."""
    if not isinstance(token, str) or not token:
        raise InvalidPaymentToken("A payment token is required.")
    if looks_like_pan(token):
        raise InvalidPaymentToken(
            "That looks like a card number. Card numbers are never sent to the shop: enter the card in "
            "the payment form, which turns it into a payment token."
        )
    if len(token) > TOKEN_MAX_LENGTH or not _TOKEN_CHARACTERS.match(token):
        raise InvalidPaymentToken(f"A payment token is 1 to {TOKEN_MAX_LENGTH} printable characters without spaces.")
    return token


def _validate_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key) > KEY_MAX_LENGTH:
        raise ValueError(f"an idempotency key is 1 to {KEY_MAX_LENGTH} characters")
    return key


def _validate_amount(amount: Decimal, currency: str) -> Decimal:
    value = to_decimal(amount)
    if value <= 0:
        raise ValueError("an amount to pay is more than zero")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise ValueError("a currency is a three-letter ISO 4217 code such as EUR")
    return value


@contextmanager
def _key_lock(namespace: str, key: str) -> Iterator[None]:
    """Hold a PostgreSQL session advisory lock on ``namespace:key`` for the block: callers with the
    same key run one after the other (concurrent requests make one gateway call). A session lock, not
    a transaction's, so rows written inside the block commit as they go."""
    name = f"payments:{namespace}:{key}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [name])
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [name])
        except Exception:  # the connection is broken: closing it releases the lock
            logger.warning("payments: could not release the lock of a %s; closing the connection", namespace)
            connection.close()


# --- attempts -------------------------------------------------------------------------------------


def _attempt_start(*, gateway: str, operation: str, **owner) -> tuple[PaymentAttempt, float]:
    return PaymentAttempt.objects.create(gateway=gateway, operation=operation, **owner), time.monotonic()


def _attempt_finish(
    attempt: PaymentAttempt,
    started: float,
    outcome: str,
    *,
    http_status: int | None = None,
    error: BaseException | None = None,
    message: str = "",
) -> None:
    attempt.outcome = outcome
    attempt.http_status = http_status
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    if error is not None:
        attempt.error_class = type(error).__name__[:100]
        message = message or str(error)
    attempt.message = redact(message)
    attempt.save(update_fields=["outcome", "http_status", "duration_ms", "error_class", "message"])


# --- charges --------------------------------------------------------------------------------------


def _outcome(intent: PaymentIntent) -> PaymentOutcome:
    return PaymentOutcome(
        intent_id=intent.pk,
        status=_OUTCOME_STATUS[intent.status],
        gateway=intent.gateway,
        decline_code=intent.decline_code,
        message=intent.message,
    )


def _request(intent: PaymentIntent) -> ChargeRequest:
    return ChargeRequest(
        idempotency_key=intent.idempotency_key,
        reference=intent.reference,
        amount=intent.amount,
        currency=intent.currency,
        token=intent.payment_token,
    )


def payment_charge(
    *,
    idempotency_key: str,
    reference: str,
    amount: Decimal,
    currency: str,
    token: str,
    gateway: str | None = None,
) -> PaymentOutcome:
    """Charge ``amount`` to ``token`` once for this key. Stores the intent before any gateway call; the
    same key again returns the stored outcome without a gateway call (``IdempotencyKeyReused`` when it
    names another reference, amount or currency). ``gateway`` None routes by PAYMENT_GATEWAYS with
    breaker and failover; a named gateway is tried alone. Status ``unavailable``: no gateway took it,
    nothing was charged; ``unknown``: a timeout, settled later (``payment.settled``).
    Raises ``InvalidPaymentToken`` before storing anything."""
    token = payment_token_validate(token=token)
    _validate_key(idempotency_key)
    amount = _validate_amount(amount, currency)
    reference = str(reference)[:100]
    with _key_lock("charge", idempotency_key):
        intent, created = PaymentIntent.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "reference": reference,
                "amount": amount,
                "currency": currency,
                "payment_token": token,
                "method": _METHODS.get(token, PaymentIntent.Method.CARD),
            },
        )
        if not created:
            if (intent.reference, intent.amount, intent.currency) != (reference, amount, currency):
                raise IdempotencyKeyReused("This idempotency key was used for another payment.")
            # A ``pending`` intent found here had its call cut off (we hold the key's lock, so no one
            # is calling): it stays open for reconciliation rather than being charged again.
            return _outcome(intent)
        names = [gateway] if gateway else list(settings.PAYMENT_GATEWAYS)
        return _charge_through(intent, names)


def _charge_through(intent: PaymentIntent, names: list[str]) -> PaymentOutcome:
    request = _request(intent)
    for name in names:
        if not breaker.allow(name):
            logger.info("payments: intent %s skips %s (circuit breaker open)", intent.pk, name)
            continue
        try:
            adapter = gateway_get(name)
        except GatewayNotConfigured as exc:
            logger.error("payments: gateway %s cannot be used: %s", name, exc)
            continue
        # Recorded before the call, so reconciliation knows where to ask if this worker dies in it.
        intent.gateway = name
        intent.save(update_fields=["gateway", "updated_at"])
        attempt, started = _attempt_start(gateway=name, operation=PaymentAttempt.Operation.CHARGE, intent=intent)
        try:
            result = adapter.charge(request)
        except GatewayError as exc:
            _attempt_finish(attempt, started, PaymentAttempt.Outcome.ERROR, http_status=exc.http_status, error=exc)
            breaker.record(name, success=False)
            logger.warning("payments: intent %s: %s failed (%s); trying the next gateway", intent.pk, name, redact(exc))
            continue
        except GatewayTimeout as exc:
            return _charge_unknown(intent, attempt, started, exc, name)
        except Exception as exc:  # an SDK surprise: the request may have been sent, so it is not retried
            logger.exception("payments: intent %s: unexpected error from %s", intent.pk, name)
            return _charge_unknown(intent, attempt, started, exc, name)
        _attempt_finish(attempt, started, result.status, http_status=result.http_status, message=result.message)
        breaker.record(name, success=True)
        _apply_charge_result(intent, result)
        intent.save(update_fields=["status", "gateway_reference", "decline_code", "message", "updated_at"])
        return _outcome(intent)
    intent.status = PaymentIntent.Status.FAILED
    intent.message = "No payment gateway can take the payment right now."
    intent.save(update_fields=["status", "message", "updated_at"])
    return _outcome(intent)


def _charge_unknown(intent, attempt, started, exc, name) -> PaymentOutcome:
    _attempt_finish(attempt, started, PaymentAttempt.Outcome.TIMEOUT, error=exc)
    breaker.record(name, success=False)
    intent.status = PaymentIntent.Status.UNKNOWN
    intent.message = "The payment is being confirmed."
    intent.save(update_fields=["status", "message", "updated_at"])
    logger.warning("payments: intent %s: no answer from %s; left for reconciliation", intent.pk, name)
    return _outcome(intent)


def _apply_charge_result(intent: PaymentIntent, result: ChargeResult) -> None:
    intent.status = {
        "succeeded": PaymentIntent.Status.SUCCEEDED,
        "declined": PaymentIntent.Status.DECLINED,
        "processing": PaymentIntent.Status.PROCESSING,
    }[result.status]
    intent.gateway_reference = result.reference or intent.gateway_reference
    intent.decline_code = redact(result.decline_code, 60) if result.status == "declined" else ""
    intent.message = redact(result.message) if result.status == "declined" else ""


def payment_charge_forgo(
    *, idempotency_key: str, reference: str, amount: Decimal, currency: str
) -> PaymentOutcome | None:
    """Give up a charge that may never have started. Under the key's lock, a key that no charge has
    used yet is closed: its intent is stored ``failed`` ("never sent"), so a charge that still arrives
    with this key (a worker that stalled before the call) answers ``unavailable`` without calling any
    gateway. Returns None when the key was closed now, else the outcome of the charge that did start
    (to be settled as usual)."""
    _validate_key(idempotency_key)
    amount = _validate_amount(amount, currency)
    with _key_lock("charge", idempotency_key):
        intent, created = PaymentIntent.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "reference": str(reference)[:100],
                "amount": amount,
                "currency": currency,
                "payment_token": "",
                "status": PaymentIntent.Status.FAILED,
                "message": "Given up before any gateway was called.",
            },
        )
        return None if created else _outcome(intent)


def payment_settle(*, intent_id: int) -> PaymentOutcome:
    """Resolve an open (pending, processing, unknown) intent by asking its gateway(s) by idempotency
    key; never charges. Still open when a gateway cannot answer now (the next run asks again). An
    intent no gateway has a record of was never charged: it becomes ``failed`` ("unavailable").
    Publishes ``payment.settled`` when it settles."""
    intent = PaymentIntent.objects.get(pk=intent_id)
    with _key_lock("charge", intent.idempotency_key):
        intent.refresh_from_db()
        if intent.status not in UNSETTLED:
            return _outcome(intent)
        request = _request(intent)
        # The gateways that may have charged: each one called whose call did not end in a clean error.
        asked = (
            intent.attempts.filter(operation=PaymentAttempt.Operation.CHARGE)
            .exclude(outcome=PaymentAttempt.Outcome.ERROR)
            .order_by("-at", "-id")
            .values_list("gateway", flat=True)
        )
        for name in dict.fromkeys(asked):
            try:
                adapter = gateway_get(name)
            except GatewayNotConfigured as exc:
                logger.error("payments: cannot settle intent %s at %s: %s", intent.pk, name, exc)
                return _outcome(intent)
            attempt, started = _attempt_start(gateway=name, operation=PaymentAttempt.Operation.LOOKUP, intent=intent)
            reference = intent.gateway_reference if intent.gateway == name else ""
            try:
                result = adapter.lookup(request, gateway_reference=reference)
            except (GatewayError, GatewayTimeout) as exc:
                _attempt_finish(attempt, started, PaymentAttempt.Outcome.ERROR, error=exc)
                return _outcome(intent)
            except Exception as exc:
                logger.exception("payments: settling intent %s: unexpected error from %s", intent.pk, name)
                _attempt_finish(attempt, started, PaymentAttempt.Outcome.ERROR, error=exc)
                return _outcome(intent)
            if result is None:
                _attempt_finish(attempt, started, PaymentAttempt.Outcome.NOT_FOUND)
                continue
            _attempt_finish(attempt, started, result.status, http_status=result.http_status, message=result.message)
            if result.status == "processing":
                if intent.status != PaymentIntent.Status.PROCESSING:
                    intent.status = PaymentIntent.Status.PROCESSING
                    intent.gateway_reference = result.reference or intent.gateway_reference
                    intent.save(update_fields=["status", "gateway_reference", "updated_at"])
                return _outcome(intent)
            intent.gateway = name
            _apply_charge_result(intent, result)
            return _settle(intent, ["gateway", "status", "gateway_reference", "decline_code", "message"])
        intent.status = PaymentIntent.Status.FAILED
        intent.message = "The payment did not reach any gateway; nothing was charged."
        return _settle(intent, ["status", "message"])


def _settle(intent: PaymentIntent, fields: list[str]) -> PaymentOutcome:
    with transaction.atomic():
        intent.save(update_fields=[*fields, "updated_at"])
        outcome = _outcome(intent)
        publish(PAYMENT_SETTLED, {"intent_id": intent.pk, "reference": intent.reference, "status": outcome.status})
    logger.info("payments: intent %s settled: %s", intent.pk, outcome.status)
    return outcome


# --- refunds --------------------------------------------------------------------------------------


def _refund_outcome(refund: Refund) -> RefundOutcome:
    return RefundOutcome(refund_id=refund.pk, status=refund.status, amount=refund.amount)


def refund_create(*, intent_id: int, amount: Decimal, idempotency_key: str, reason: str = "") -> RefundOutcome:
    """Refund ``amount`` of a succeeded payment, once for this key. Never more than was captured:
    the intent's row is locked while the refunds still counting (pending or succeeded) are summed.
    ``RefundNotAllowed`` otherwise; ``IdempotencyKeyReused`` for the key of another refund. A refund
    whose gateway did not answer stays ``pending`` and is sent again, with the same key, by
    reconciliation."""
    _validate_key(idempotency_key)
    intent_id = int(intent_id)  # callers may hold it as text (orders stores the intent's id in a CharField)
    value = to_decimal(amount)
    if value <= 0:
        raise RefundNotAllowed("A refund is more than zero.")
    with _key_lock("refund", idempotency_key):
        existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if (existing.intent_id, existing.amount) != (intent_id, value):
                raise IdempotencyKeyReused("This idempotency key was used for another refund.")
            return _refund_outcome(existing)
        with transaction.atomic():
            intent = PaymentIntent.objects.select_for_update().get(pk=intent_id)
            if intent.status != PaymentIntent.Status.SUCCEEDED:
                raise RefundNotAllowed("Only a captured payment can be refunded.")
            committed = intent.refunds.exclude(status=Refund.Status.FAILED).aggregate(total=Sum("amount"))["total"]
            refundable = intent.amount - (committed or Decimal("0"))
            if value > refundable:
                raise RefundNotAllowed(f"At most {refundable} {intent.currency} of this payment can still be refunded.")
            refund = Refund.objects.create(
                intent=intent,
                idempotency_key=idempotency_key,
                amount=value,
                currency=intent.currency,
                reason=redact(reason, 200),
                gateway=intent.gateway,
            )
        _refund_send(refund)
        return _refund_outcome(refund)


def _refund_send(refund: Refund) -> None:
    """Send the refund (again, with its key); a 4xx answer fails it, no answer leaves it pending."""
    intent = refund.intent
    attempt, started = _attempt_start(
        gateway=refund.gateway, operation=PaymentAttempt.Operation.REFUND, intent=intent, refund=refund
    )
    try:
        result = gateway_get(refund.gateway).refund(
            idempotency_key=refund.idempotency_key,
            gateway_reference=intent.gateway_reference,
            amount=refund.amount,
            currency=refund.currency,
        )
    except GatewayError as exc:
        _attempt_finish(attempt, started, PaymentAttempt.Outcome.ERROR, http_status=exc.http_status, error=exc)
        if exc.http_status is not None and 400 <= exc.http_status < 500:
            refund.status = Refund.Status.FAILED  # refused: nothing was refunded
            refund.save(update_fields=["status", "updated_at"])
        return
    except (GatewayTimeout, GatewayNotConfigured, OperationNotSupported) as exc:
        _attempt_finish(attempt, started, PaymentAttempt.Outcome.TIMEOUT, error=exc)
        return
    except Exception as exc:
        logger.exception("payments: refund %s: unexpected error from %s", refund.pk, refund.gateway)
        _attempt_finish(attempt, started, PaymentAttempt.Outcome.TIMEOUT, error=exc)
        return
    _attempt_finish(attempt, started, result.status, http_status=result.http_status)
    refund.status = result.status
    refund.gateway_reference = result.reference
    refund.save(update_fields=["status", "gateway_reference", "updated_at"])


# --- transfers ------------------------------------------------------------------------------------


def transfer_create(*, idempotency_key: str, destination: str, amount: Decimal, currency: str) -> TransferOutcome:
    """Pay ``amount`` out to ``destination`` (a seller's account at PAYMENT_PAYOUT_GATEWAY), once for
    this key. No answer leaves it ``pending``; reconciliation sends it again with the same key."""
    _validate_key(idempotency_key)
    value = _validate_amount(amount, currency)
    if not destination or looks_like_pan(destination):
        raise ValueError("a transfer needs the destination's account id at the gateway")
    with _key_lock("transfer", idempotency_key):
        transfer, created = Transfer.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "destination": destination[:100],
                "amount": value,
                "currency": currency,
                "gateway": settings.PAYMENT_PAYOUT_GATEWAY,
            },
        )
        if not created:
            if (transfer.destination, transfer.amount, transfer.currency) != (destination[:100], value, currency):
                raise IdempotencyKeyReused("This idempotency key was used for another transfer.")
            return TransferOutcome(transfer_id=transfer.pk, status=transfer.status, amount=transfer.amount)
        _transfer_send(transfer)
        return TransferOutcome(transfer_id=transfer.pk, status=transfer.status, amount=transfer.amount)


def _transfer_send(transfer: Transfer) -> None:
    attempt, started = _attempt_start(
        gateway=transfer.gateway, operation=PaymentAttempt.Operation.TRANSFER, transfer=transfer
    )
    try:
        result = gateway_get(transfer.gateway).transfer(
            idempotency_key=transfer.idempotency_key,
            destination=transfer.destination,
            amount=transfer.amount,
            currency=transfer.currency,
        )
    except (GatewayNotConfigured, OperationNotSupported) as exc:
        _attempt_finish(attempt, started, PaymentAttempt.Outcome.FAILED, error=exc)
        transfer.status = Transfer.Status.FAILED
        transfer.save(update_fields=["status", "updated_at"])
        return
    except GatewayError as exc:
        _attempt_finish(attempt, started, PaymentAttempt.Outcome.ERROR, http_status=exc.http_status, error=exc)
        if exc.http_status is not None and 400 <= exc.http_status < 500:
            transfer.status = Transfer.Status.FAILED
            transfer.save(update_fields=["status", "updated_at"])
        return
    except Exception as exc:
        if not isinstance(exc, GatewayTimeout):
            logger.exception("payments: transfer %s: unexpected error from %s", transfer.pk, transfer.gateway)
        _attempt_finish(attempt, started, PaymentAttempt.Outcome.TIMEOUT, error=exc)
        return
    _attempt_finish(attempt, started, result.status, http_status=result.http_status)
    transfer.status = result.status
    transfer.gateway_reference = result.reference
    transfer.save(update_fields=["status", "gateway_reference", "updated_at"])


# --- reconciliation -------------------------------------------------------------------------------


def payments_reconcile(*, older_than: timedelta | None = None, limit: int = 200) -> int:
    """Settle the intents open for longer than PAYMENT_RECONCILE_AFTER, and send again (same keys)
    refunds and transfers still pending. Returns how many intents settled."""
    age = older_than if older_than is not None else timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER)
    cutoff = timezone.now() - age
    settled = 0
    for intent_id in payment_intents_unsettled(older_than=cutoff).values_list("pk", flat=True)[:limit]:
        if payment_settle(intent_id=intent_id).status != "unknown":
            settled += 1
    # Refunds with no answer yet; those a gateway accepted (a reference) settle by its notification.
    unanswered = Refund.objects.filter(status=Refund.Status.PENDING, gateway_reference="", updated_at__lt=cutoff)
    for refund in unanswered.select_related("intent")[:limit]:
        with _key_lock("refund", refund.idempotency_key):
            refund.refresh_from_db()
            if refund.status == Refund.Status.PENDING:
                _refund_send(refund)
    unsent = Transfer.objects.filter(status=Transfer.Status.PENDING, gateway_reference="", updated_at__lt=cutoff)
    for transfer in unsent[:limit]:
        with _key_lock("transfer", transfer.idempotency_key):
            transfer.refresh_from_db()
            if transfer.status == Transfer.Status.PENDING:
                _transfer_send(transfer)
    return settled


# --- webhooks -------------------------------------------------------------------------------------

_STRIPE_INTENT_STATUS = {
    "succeeded": PaymentIntent.Status.SUCCEEDED,
    "processing": PaymentIntent.Status.PROCESSING,
    "requires_payment_method": PaymentIntent.Status.DECLINED,
    "canceled": PaymentIntent.Status.DECLINED,
}
_STRIPE_REFUND_STATUS = {"succeeded": "succeeded", "pending": "pending", "failed": "failed", "canceled": "failed"}


def webhook_event_apply(*, gateway: str, event: dict) -> bool:
    """Apply a verified webhook event once: its id is recorded in the same transaction as its effect,
    so a redelivery is acknowledged and ignored. Returns False for a duplicate."""
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(
                gateway=gateway, event_id=str(event["id"])[:100], type=str(event.get("type", ""))[:100], payload=event
            )
            if gateway == "stripe":
                _stripe_event_apply(event)
    except IntegrityError:
        logger.info("payments: %s webhook event %s seen before; ignored", gateway, redact(event.get("id")))
        return False
    return True


def _stripe_event_apply(event: dict) -> None:
    obj = (event.get("data") or {}).get("object") or {}
    kind = obj.get("object")
    if kind == "payment_intent":
        status = _STRIPE_INTENT_STATUS.get(obj.get("status"))
        key = (obj.get("metadata") or {}).get("idempotency_key", "")
        intent = PaymentIntent.objects.select_for_update().filter(gateway_reference=obj.get("id") or "-").first()
        if intent is None and key:
            intent = PaymentIntent.objects.select_for_update().filter(idempotency_key=key).first()
        if intent is None or status is None or intent.status not in UNSETTLED:
            return
        intent.gateway = "stripe"
        intent.gateway_reference = obj.get("id") or intent.gateway_reference
        intent.status = status
        if status == PaymentIntent.Status.DECLINED:
            error = obj.get("last_payment_error") or {}
            intent.decline_code = redact(error.get("decline_code") or error.get("code") or obj.get("status"), 60)
            intent.message = redact(error.get("message") or "The payment was declined.")
        if status == PaymentIntent.Status.PROCESSING:
            intent.save(update_fields=["gateway", "gateway_reference", "status", "updated_at"])
            return
        intent.save(update_fields=["gateway", "gateway_reference", "status", "decline_code", "message", "updated_at"])
        publish(
            PAYMENT_SETTLED,
            {"intent_id": intent.pk, "reference": intent.reference, "status": _OUTCOME_STATUS[intent.status]},
        )
    elif kind == "refund":
        status = _STRIPE_REFUND_STATUS.get(obj.get("status"))
        refund = Refund.objects.select_for_update().filter(gateway="stripe", gateway_reference=obj.get("id")).first()
        if refund is not None and status and refund.status == Refund.Status.PENDING:
            refund.status = status
            refund.save(update_fields=["status", "updated_at"])
