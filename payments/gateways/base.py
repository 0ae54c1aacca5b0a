"""The interface every payment gateway adapter implements, and the results and errors it speaks.

An adapter turns one operation into one request to its gateway and classifies the answer:

- a result (``ChargeResult``, ``RefundResult``, ``TransferResult``) when the gateway answered;
- ``GatewayError`` when the gateway failed (5xx) or could not be reached before the request was
  sent: nothing happened there, so the shop may try the next gateway;
- ``GatewayTimeout`` when the request may have reached the gateway but no answer came: the outcome
  is unknown and must be settled by ``lookup`` (never by trying again somewhere else).

Every operation carries the caller's idempotency key, which the adapter passes to the gateway, so a
repeated request is answered with the first result and moves no money twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

# Currencies without minor units (ISO 4217 exponent 0): amounts are sent as whole units.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """``Decimal("19.99")`` EUR -> 1999; gateways take integers in the currency's smallest unit."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    return int((amount * (10**exponent)).to_integral_value())


def from_minor_units(value: int, currency: str) -> Decimal:
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    return (Decimal(value) / (10**exponent)).quantize(Decimal("0.01"))


class GatewayError(Exception):
    """The gateway failed or was not reached; nothing was done there. Safe to fail over."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class GatewayTimeout(Exception):
    """No answer in time after the request may have been sent: the outcome is unknown."""


class GatewayNotConfigured(Exception):
    """The gateway is named in PAYMENT_GATEWAYS but its credentials are missing."""


class OperationNotSupported(Exception):
    """The gateway does not offer this operation (e.g. transfers)."""


@dataclass(frozen=True)
class ChargeResult:
    status: str  # "succeeded" | "declined" | "processing"
    reference: str  # the gateway's id of the payment ("" when it made none, e.g. some declines)
    decline_code: str = ""
    message: str = ""
    http_status: int | None = None


@dataclass(frozen=True)
class RefundResult:
    status: str  # "succeeded" | "pending" | "failed"
    reference: str
    http_status: int | None = None


@dataclass(frozen=True)
class TransferResult:
    status: str  # "succeeded" | "pending" | "failed"
    reference: str
    http_status: int | None = None


@dataclass(frozen=True)
class ChargeRequest:
    """Everything a charge sends; a lookup by replay sends exactly the same again."""

    idempotency_key: str
    reference: str
    amount: Decimal
    currency: str
    token: str


class Gateway(ABC):
    name: str

    @abstractmethod
    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge (authorize and capture at once) the token."""

    @abstractmethod
    def lookup(self, request: ChargeRequest, *, gateway_reference: str = "") -> ChargeResult | None:
        """The state of the charge made with ``request.idempotency_key`` (or ``gateway_reference``),
        or None when the gateway never received it. Never charges a second time."""

    @abstractmethod
    def refund(self, *, idempotency_key: str, gateway_reference: str, amount: Decimal, currency: str) -> RefundResult:
        """Refund ``amount`` of the charge ``gateway_reference``; repeating the key repeats nothing."""

    def transfer(self, *, idempotency_key: str, destination: str, amount: Decimal, currency: str) -> TransferResult:
        """Pay ``amount`` out to ``destination`` (a seller's account at the gateway)."""
        raise OperationNotSupported(f"{self.name} does not make transfers")
