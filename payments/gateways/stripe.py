"""Stripe through its SDK (``stripe.StripeClient``): PaymentIntents created with ``confirm=true``
and the caller's idempotency key, refunds, transfers, status lookup and webhook verification.

Configured by STRIPE_SECRET_KEY, STRIPE_API_BASE (Stripe's API, or a local server in tests),
STRIPE_WEBHOOK_SECRET and PAYMENT_GATEWAY_TIMEOUT. The SDK's own retries are off: the shop decides
(failover on a gateway error, reconciliation after a timeout).

Status lookup: by the PaymentIntent's id when one was stored; otherwise (the create timed out) the
create is replayed with the same idempotency key and parameters, which Stripe answers with the stored
result of the first request, never a second charge. (If the first request never reached Stripe, the
replay is that payment, made once.) Stripe keeps idempotency keys for 24 hours; reconciliation runs
every minute.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import requests
import stripe
from django.conf import settings

from payments.redaction import redact

from .base import (
    ChargeRequest,
    ChargeResult,
    Gateway,
    GatewayError,
    GatewayNotConfigured,
    GatewayTimeout,
    RefundResult,
    TransferResult,
    to_minor_units,
)
from .http import classify

_INTENT_STATUS = {
    "succeeded": "succeeded",
    "requires_capture": "succeeded",  # authorized; this shop captures at once, so only if set up by hand
    "processing": "processing",
    "requires_payment_method": "declined",
    "requires_confirmation": "declined",
    "requires_action": "declined",  # 3-D Secure asked for, which this confirm cannot do
    "canceled": "declined",
}
_REFUND_STATUS = {
    "succeeded": "succeeded",
    "pending": "pending",
    "requires_action": "pending",
    "failed": "failed",
    "canceled": "failed",
}


def _get(obj: Any, key: str) -> Any:
    """A field of a StripeObject (or dict), None when absent; StripeObjects are not dicts in this SDK."""
    if obj is None:
        return None
    try:
        return obj[key]
    except (KeyError, TypeError):
        return None


class WebhookInvalid(ValueError):
    """The webhook's signature does not verify, or its body is not an event."""


def webhook_verify(*, payload: bytes, signature: str, secret: str) -> dict[str, Any]:
    """The event in a webhook request, once Stripe's SDK has verified its signature and timestamp."""
    if not secret:
        raise WebhookInvalid("Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET).")
    try:
        stripe.Webhook.construct_event(payload, signature, secret)
    except stripe.SignatureVerificationError as exc:
        raise WebhookInvalid("The webhook signature does not verify.") from exc
    except ValueError as exc:
        raise WebhookInvalid("The webhook body is not a Stripe event.") from exc
    event = json.loads(payload)
    if not isinstance(event, dict) or not event.get("id"):
        raise WebhookInvalid("The webhook body is not a Stripe event.")
    return event


class StripeGateway(Gateway):
    name = "stripe"

    def __init__(self, *, secret_key: str, api_base: str, timeout: float) -> None:
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base},
            http_client=stripe.RequestsClient(timeout=timeout),
            max_network_retries=0,
        )

    @classmethod
    def from_settings(cls) -> StripeGateway:
        if not settings.STRIPE_SECRET_KEY:
            raise GatewayNotConfigured("STRIPE_SECRET_KEY is not set")
        return cls(
            secret_key=settings.STRIPE_SECRET_KEY,
            api_base=settings.STRIPE_API_BASE,
            timeout=settings.PAYMENT_GATEWAY_TIMEOUT,
        )

    def _call(self, operation, *args, **kwargs):
        """Run one SDK call; transport failures and 5xx become GatewayError or GatewayTimeout."""
        try:
            return operation(*args, **kwargs)
        except stripe.APIConnectionError as exc:
            cause = exc.__cause__
            if isinstance(cause, requests.exceptions.RequestException):
                raise classify(cause, self.name) from exc
            raise GatewayTimeout(f"stripe: {redact(exc, 200)}") from exc
        except stripe.IdempotencyError as exc:
            # The same key is still being processed (or was used with other parameters): no result yet.
            raise GatewayTimeout(f"stripe: {redact(exc.user_message, 200)}") from exc
        except (stripe.APIError, stripe.RateLimitError, stripe.AuthenticationError, stripe.PermissionError) as exc:
            raise GatewayError(f"stripe: {redact(exc.user_message, 200)}", http_status=exc.http_status) from exc

    def _create_params(self, request: ChargeRequest) -> dict[str, Any]:
        return {
            "amount": to_minor_units(request.amount, request.currency),
            "currency": request.currency.lower(),
            "payment_method": request.token,
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "metadata": {"reference": request.reference, "idempotency_key": request.idempotency_key},
        }

    def charge(self, request: ChargeRequest) -> ChargeResult:
        try:
            intent = self._call(
                self.client.v1.payment_intents.create,
                params=self._create_params(request),
                options={"idempotency_key": request.idempotency_key},
            )
        except (stripe.CardError, stripe.InvalidRequestError) as exc:
            return self._declined(exc)
        return self._result(intent)

    def lookup(self, request: ChargeRequest, *, gateway_reference: str = "") -> ChargeResult | None:
        if gateway_reference:
            try:
                return self._result(self._call(self.client.v1.payment_intents.retrieve, gateway_reference))
            except stripe.InvalidRequestError as exc:
                if exc.http_status == 404:
                    return None
                raise GatewayError(f"stripe: {redact(exc.user_message, 200)}", http_status=exc.http_status) from exc
        return self.charge(request)  # the replay: same key, same parameters, the first answer

    def _result(self, intent) -> ChargeResult:
        status = _INTENT_STATUS.get(intent.status, "processing")
        decline_code = message = ""
        if status == "declined":
            error = _get(intent, "last_payment_error")
            decline_code = _get(error, "decline_code") or _get(error, "code") or intent.status
            message = _get(error, "message") or "The payment was declined."
        return ChargeResult(
            status=status, reference=intent.id, decline_code=decline_code, message=redact(message), http_status=200
        )

    def _declined(self, exc: stripe.StripeError) -> ChargeResult:
        error = exc.error
        decline_code = _get(error, "decline_code") or exc.code or "declined"
        return ChargeResult(
            status="declined",
            reference=_get(_get(error, "payment_intent"), "id") or "",
            decline_code=redact(decline_code, 60),
            message=redact(exc.user_message or "The payment was declined."),
            http_status=exc.http_status,
        )

    def refund(self, *, idempotency_key: str, gateway_reference: str, amount: Decimal, currency: str) -> RefundResult:
        try:
            refund = self._call(
                self.client.v1.refunds.create,
                params={"payment_intent": gateway_reference, "amount": to_minor_units(amount, currency)},
                options={"idempotency_key": idempotency_key},
            )
        except (stripe.InvalidRequestError, stripe.CardError) as exc:
            raise GatewayError(f"stripe: {redact(exc.user_message, 200)}", http_status=exc.http_status) from exc
        return RefundResult(status=_REFUND_STATUS.get(refund.status, "pending"), reference=refund.id, http_status=200)

    def transfer(self, *, idempotency_key: str, destination: str, amount: Decimal, currency: str) -> TransferResult:
        try:
            transfer = self._call(
                self.client.v1.transfers.create,
                params={
                    "amount": to_minor_units(amount, currency),
                    "currency": currency.lower(),
                    "destination": destination,
                },
                options={"idempotency_key": idempotency_key},
            )
        except (stripe.InvalidRequestError, stripe.CardError) as exc:
            raise GatewayError(f"stripe: {redact(exc.user_message, 200)}", http_status=exc.http_status) from exc
        return TransferResult(status="succeeded", reference=transfer.id, http_status=200)
