"""Adyen through its SDK (the ``Adyen`` package): Checkout API ``/payments`` with the caller's key in
the ``Idempotency-Key`` header, refunds, and status lookup.

Configured by ADYEN_API_KEY, ADYEN_MERCHANT_ACCOUNT, ADYEN_ENVIRONMENT (``test`` or ``live``),
ADYEN_LIVE_ENDPOINT_PREFIX (live only) and ADYEN_CHECKOUT_URL, which replaces the SDK's Checkout base
URL (``https://checkout-test.adyen.com/v72``): a local server in tests. The token is the id of a
payment method stored at Adyen for the shopper (``storedPaymentMethodId``).

Status lookup: the Checkout API has no "get payment"; Adyen answers a request repeated with the same
idempotency key with the stored response of the first, so the lookup replays the create, which never
charges twice. Refunds are asynchronous at Adyen: accepted refunds are ``pending`` until Adyen's
REFUND notification (not wired up yet; staff see them pending in the admin).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import Adyen
import requests
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
    to_minor_units,
)
from .http import classify

_DECLINE_CODES = {"12": "insufficient_funds", "2": "card_declined", "5": "card_declined", "6": "expired_card"}
_CHALLENGES = {"RedirectShopper", "IdentifyShopper", "ChallengeShopper", "PresentToShopper"}
IN_PROGRESS_ERROR = "704"  # "request already processed or in progress" for a repeated idempotency key


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "declined"


class AdyenGateway(Gateway):
    name = "adyen"

    def __init__(
        self,
        *,
        api_key: str,
        merchant_account: str,
        environment: str = "test",
        live_endpoint_prefix: str = "",
        checkout_url: str = "",
        timeout: float = 10,
    ) -> None:
        self.merchant_account = merchant_account
        self.adyen = Adyen.Adyen(
            xapikey=api_key,
            platform=environment,
            live_endpoint_prefix=live_endpoint_prefix or None,
            http_timeout=timeout,
            http_force="requests",
        )
        self.checkout = self.adyen.checkout
        if checkout_url:
            base = checkout_url.rstrip("/")
            self.checkout.payments_api.baseUrl = base
            self.checkout.modifications_api.baseUrl = base

    @classmethod
    def from_settings(cls) -> AdyenGateway:
        if not settings.ADYEN_API_KEY or not settings.ADYEN_MERCHANT_ACCOUNT:
            raise GatewayNotConfigured("ADYEN_API_KEY and ADYEN_MERCHANT_ACCOUNT are not set")
        return cls(
            api_key=settings.ADYEN_API_KEY,
            merchant_account=settings.ADYEN_MERCHANT_ACCOUNT,
            environment=settings.ADYEN_ENVIRONMENT,
            live_endpoint_prefix=settings.ADYEN_LIVE_ENDPOINT_PREFIX,
            checkout_url=settings.ADYEN_CHECKOUT_URL,
            timeout=settings.PAYMENT_GATEWAY_TIMEOUT,
        )

    def _call(self, operation, *args, **kwargs) -> Any:
        try:
            return operation(*args, **kwargs).message or {}
        except requests.exceptions.RequestException as exc:
            raise classify(exc, self.name) from exc
        except Adyen.AdyenError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else None
            detail = exc.message.get("message", "") if isinstance(exc.message, dict) else exc.message
            if status == 422 and exc.error_code == IN_PROGRESS_ERROR:
                raise GatewayTimeout(f"adyen: {redact(detail, 200)}") from exc
            if status is not None and status in (400, 422):
                raise  # the request was refused as it stands: the caller decides
            # 5xx, or 401/403/404 (configuration): nothing was done at Adyen
            raise GatewayError(f"adyen: {redact(detail, 200)}", http_status=status) from exc

    def charge(self, request: ChargeRequest) -> ChargeResult:
        body = {
            "merchantAccount": self.merchant_account,
            "amount": {"value": to_minor_units(request.amount, request.currency), "currency": request.currency},
            "reference": request.reference,
            "paymentMethod": {"type": "scheme", "storedPaymentMethodId": request.token},
            "shopperReference": request.reference,
            "shopperInteraction": "ContAuth",
            "recurringProcessingModel": "CardOnFile",
            "metadata": {"idempotencyKey": request.idempotency_key[:80]},
        }
        try:
            answer = self._call(self.checkout.payments_api.payments, body, idempotency_key=request.idempotency_key)
        except Adyen.AdyenError as exc:  # 400/422: a token or request Adyen refuses
            return ChargeResult(
                status="declined",
                reference=exc.psp or "",
                decline_code="invalid_request",
                message="The payment method was refused.",
                http_status=exc.status_code if isinstance(exc.status_code, int) else None,
            )
        return self._result(answer)

    def lookup(self, request: ChargeRequest, *, gateway_reference: str = "") -> ChargeResult | None:
        return self.charge(request)  # replayed with the same key: Adyen answers the first result

    def _result(self, answer: dict[str, Any]) -> ChargeResult:
        code = answer.get("resultCode", "")
        reference = answer.get("pspReference", "")
        if code == "Authorised":
            return ChargeResult(status="succeeded", reference=reference, http_status=200)
        if code in {"Pending", "Received"}:
            return ChargeResult(status="processing", reference=reference, http_status=200)
        if code in _CHALLENGES:
            decline_code = "authentication_required"
        elif code == "Refused":
            reason_code = str(answer.get("refusalReasonCode", ""))
            decline_code = _DECLINE_CODES.get(reason_code) or _snake(answer.get("refusalReason", ""))
        else:  # Error, Cancelled
            decline_code = _snake(code)
        message = answer.get("refusalReason") or "The payment was declined."
        return ChargeResult(
            status="declined", reference=reference, decline_code=decline_code, message=redact(message), http_status=200
        )

    def refund(self, *, idempotency_key: str, gateway_reference: str, amount: Decimal, currency: str) -> RefundResult:
        body = {
            "merchantAccount": self.merchant_account,
            "amount": {"value": to_minor_units(amount, currency), "currency": currency},
            "reference": idempotency_key[:80],
        }
        try:
            answer = self._call(
                self.checkout.modifications_api.refund_captured_payment,
                body,
                gateway_reference,
                idempotency_key=idempotency_key,
            )
        except Adyen.AdyenError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else 400
            raise GatewayError("adyen: the refund was refused", http_status=status) from exc
        status = "pending" if answer.get("status") == "received" else "failed"
        return RefundResult(status=status, reference=answer.get("pspReference", ""), http_status=201)
