"""The built-in ``sandbox`` gateway: behaves like a remote gateway with test tokens (API.md, "Payment
tokens"), keeping its own ledger (``SandboxOperation``) keyed by idempotency key, so a replayed request
gets the first answer and a status lookup by key works after a lost answer.

Tokens:

====================== =====================================================================
``tok_visa``           succeeds (card)
``tok_mastercard``     succeeds (card)
``tok_wallet``         succeeds (wallet)
``tok_bnpl``           succeeds (buy now, pay later)
``tok_chargeDeclined`` declined, ``card_declined``
``tok_insufficientFunds`` declined, ``insufficient_funds``
``tok_gatewayError``   the gateway fails with a server error (502) and records nothing: the shop
                       fails over to the next gateway in PAYMENT_GATEWAYS
``tok_timeout``        (tests, demos) the sandbox charges, then the answer is lost: the shop sees a
                       timeout, leaves the payment ``unknown``, and reconciliation finds the charge
====================== =====================================================================

Any other token is declined with ``invalid_token``, as a real gateway refuses a token it never issued.
Transfers to any destination succeed. Nothing here leaves the database: no network, no credentials.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from payments.models import SandboxOperation

from .base import ChargeRequest, ChargeResult, Gateway, GatewayError, GatewayTimeout, RefundResult, TransferResult

SUCCEEDING_TOKENS = {"tok_visa": "card", "tok_mastercard": "card", "tok_wallet": "wallet", "tok_bnpl": "bnpl"}
DECLINING_TOKENS = {"tok_chargeDeclined": "card_declined", "tok_insufficientFunds": "insufficient_funds"}
ERROR_TOKEN = "tok_gatewayError"  # noqa: S105 (a test token, not a secret)
TIMEOUT_TOKEN = "tok_timeout"  # noqa: S105
TEST_TOKENS = {*SUCCEEDING_TOKENS, *DECLINING_TOKENS, ERROR_TOKEN, TIMEOUT_TOKEN}


def _new_reference(prefix: str) -> str:
    return f"sb_{prefix}_{secrets.token_hex(10)}"


def _charge_result(operation: SandboxOperation) -> ChargeResult:
    return ChargeResult(
        status=operation.status,
        reference=operation.reference,
        decline_code=operation.decline_code,
        message="Your card was declined." if operation.status == "declined" else "",
        http_status=402 if operation.status == "declined" else 200,
    )


class SandboxGateway(Gateway):
    name = "sandbox"

    def charge(self, request: ChargeRequest) -> ChargeResult:
        if request.token == ERROR_TOKEN:
            raise GatewayError("sandbox: simulated server error", http_status=502)
        known = request.token in SUCCEEDING_TOKENS or request.token == TIMEOUT_TOKEN
        decline_code = DECLINING_TOKENS.get(request.token, "" if known else "invalid_token")
        operation = self._record(
            kind="charge",
            idempotency_key=request.idempotency_key,
            token=request.token,
            amount=request.amount,
            currency=request.currency,
            status="declined" if decline_code else "succeeded",
            decline_code=decline_code,
        )
        if request.token == TIMEOUT_TOKEN:
            raise GatewayTimeout("sandbox: the charge was made but its answer was lost")
        return _charge_result(operation)

    def lookup(self, request: ChargeRequest, *, gateway_reference: str = "") -> ChargeResult | None:
        operation = SandboxOperation.objects.filter(kind="charge", idempotency_key=request.idempotency_key).first()
        return _charge_result(operation) if operation else None

    def refund(self, *, idempotency_key: str, gateway_reference: str, amount: Decimal, currency: str) -> RefundResult:
        with transaction.atomic():
            existing = SandboxOperation.objects.filter(kind="refund", idempotency_key=idempotency_key).first()
            if existing:
                return RefundResult(status=existing.status, reference=existing.reference, http_status=200)
            charge = (
                SandboxOperation.objects.select_for_update()
                .filter(kind="charge", reference=gateway_reference, status="succeeded")
                .first()
            )
            if charge is None:
                raise GatewayError("sandbox: no such charge", http_status=404)
            refunded = SandboxOperation.objects.filter(
                kind="refund", parent=charge.reference, status="succeeded"
            ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
            status = "succeeded" if refunded + amount <= charge.amount and currency == charge.currency else "failed"
            operation = SandboxOperation.objects.create(
                kind="refund",
                idempotency_key=idempotency_key,
                reference=_new_reference("re"),
                parent=charge.reference,
                amount=amount,
                currency=currency,
                status=status,
            )
        return RefundResult(status=operation.status, reference=operation.reference, http_status=200)

    def transfer(self, *, idempotency_key: str, destination: str, amount: Decimal, currency: str) -> TransferResult:
        operation = self._record(
            kind="transfer",
            idempotency_key=idempotency_key,
            destination=destination,
            amount=amount,
            currency=currency,
            status="succeeded",
        )
        return TransferResult(status=operation.status, reference=operation.reference, http_status=200)

    def _record(self, *, kind: str, idempotency_key: str, **fields) -> SandboxOperation:
        """The operation for this key: the first one made with it, or a new one."""
        prefix = {"charge": "ch", "refund": "re", "transfer": "tr"}[kind]
        try:
            with transaction.atomic():
                operation, _ = SandboxOperation.objects.get_or_create(
                    kind=kind,
                    idempotency_key=idempotency_key,
                    defaults={"reference": _new_reference(prefix), **fields},
                )
        except IntegrityError:  # the same key raced in: the first one wins, as at a real gateway
            operation = SandboxOperation.objects.get(kind=kind, idempotency_key=idempotency_key)
        return operation
