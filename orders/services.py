"""Commands of the orders app: the checkout saga, orders split per seller, fulfilment, cancellations,
returns and refunds (DESIGN.md, "Checkout saga" and "States").

Checkout start (``checkout_start``), each step recorded in ``CheckoutStep``:
1. the checkout row with the cart's lines at current prices (``started``), under the buyer's row
   lock, abandoning the buyer's previous open checkout;
2. the stock reservation, keyed ``checkout:<id>`` (``reserved``), outside any transaction;
3. one use of the coupon, keyed the same (``coupon_redeemed``);
4. the prices: packages, shipping, discount, tax, allocated to lines (``priced``).
Steps 2-4 are idempotent, so a replay of the Idempotency-Key finishes an interrupted start; a start
nobody finishes is released by ``checkouts_expire`` like any other.

Paying (``checkout_pay``) never holds a transaction open across the gateway call:
1. a short transaction locks the checkout, creates the order ``pending_payment`` (once per
   checkout), stores the attempt and moves ``reserved -> paying`` (a second concurrent pay sees
   ``paying`` and is refused: one charge);
2. ``payments.payment_charge`` under a key derived from the checkout and the attempt;
3. a second transaction applies the outcome: success confirms (stock committed, coupon consumed,
   sub-orders confirmed, ledger written, events published); a decline or an unavailable gateway
   takes the checkout back to ``reserved``; an unknown outcome leaves it ``paying`` until the
   ``payment.settled`` event or ``orders_resume`` settles it. While paying, the reservation is
   extended, so stock that may have been paid for never goes back on sale.

Refunds are stored (``OrderRefund`` pending) in the transaction that cancels or approves, and issued
through ``payments.refund_create`` after it under their idempotency key; one that fails is retried
by ``orders_resume``.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from hashlib import sha256
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from accounts.models import Address, User
from cart import selectors as cart_selectors
from cart import services as cart_services
from catalog.models import Variant
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.services import FlashSaleUnavailable, OutOfStock, ReservationLapsed
from orders import events, pricing, states
from orders.models import (
    Checkout,
    CheckoutLine,
    CheckoutPackage,
    CheckoutStep,
    Order,
    OrderEvent,
    OrderLine,
    OrderRefund,
    PaymentAttempt,
    Return,
    ReturnLine,
    ShippingMethod,
    SubOrder,
)
from orders.states import InvalidTransition
from orders.tax import tax_rates_for
from payments import services as payment_services
from payments.models import PaymentIntent
from payments.services import InvalidPaymentToken
from promotions import services as promotion_services
from promotions.services import CouponInvalid
from sellers import selectors as seller_selectors
from sellers import services as seller_services
from shop.core.events import publish
from shop.core.money import to_decimal

__all__ = [
    "CheckoutConflict",
    "CheckoutExpired",
    "CheckoutNotFound",
    "CouponInvalid",
    "EmptyCart",
    "FlashSaleUnavailable",
    "InvalidPaymentToken",
    "InvalidTransition",
    "OutOfStock",
    "PayResult",
]

logger = logging.getLogger(__name__)

CHECKOUT_TTL = timedelta(minutes=10)  # the reservation's; settings.CHECKOUT_TTL overrides
# A payment in flight for longer than this is looked at by orders_resume: the gateway call itself
# gives up long before (payments' timeouts), so its worker has died or its answer was lost.
PAYMENT_STALE_AFTER = timedelta(minutes=2)
# How long stock stays held for a checkout whose payment is in flight or unknown; orders_resume
# extends it again while the outcome stays unknown.
PAYMENT_HOLD = timedelta(minutes=30)
KEY_MAX_LENGTH = 200
ADDRESS_FIELDS = ("full_name", "line1", "line2", "city", "postal_code", "country", "phone")
NUMBER_PREFIX = "SHP-"
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: read out over the phone
NUMBER_LENGTH = 8
CARRIER_MAX_LENGTH = 60
TRACKING_MAX_LENGTH = 100
REASON_MAX_LENGTH = 500

ZERO = Decimal("0.00")
PRICED_FIELDS = ("subtotal", "discount", "shipping", "tax", "total")  # what _price_locked sets on a checkout
# what settling a payment sets on its attempt
ATTEMPT_OUTCOME_FIELDS = (
    "status",
    "intent_id",
    "gateway",
    "decline_code",
    "message",
    "response_status",
    "response",
    "finished_at",
)
CS = Checkout.Status
SS = SubOrder.Status
RS = Return.Status


class CheckoutNotFound(LookupError):
    """No checkout with this id belongs to the buyer."""


class EmptyCart(Exception):
    """There is nothing in the cart to check out."""


class CheckoutConflict(Exception):
    """The checkout cannot do that now (a payment in progress, already paid). ``extra`` goes into the
    API's error body."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra = extra


class CheckoutExpired(Exception):
    """The checkout's reservation lapsed (or it was abandoned): start again from the cart."""


@dataclass
class PayResult:
    """What a pay request answers: the HTTP status and body, stored on the attempt for replays."""

    status_code: int
    body: dict[str, Any]
    order: Order | None = None
    replayed: bool = False
    error: str = ""  # the API's error code when status_code >= 400
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Outcome:
    status: str  # succeeded, declined, unavailable, unknown, invalid, aborted
    intent_id: str = ""
    gateway: str = ""
    decline_code: str = ""
    message: str = ""


_Steps = list[tuple[str, dict[str, Any]]]  # saga steps (name, detail) of a transaction, recorded together


# --- small helpers -----------------------------------------------------------------------------------


def checkout_ttl() -> timedelta:
    return getattr(settings, "CHECKOUT_TTL", None) or getattr(settings, "INVENTORY_RESERVATION_TTL", CHECKOUT_TTL)


def _payment_stale_after() -> timedelta:
    return getattr(settings, "CHECKOUT_PAYMENT_STALE_AFTER", PAYMENT_STALE_AFTER)


def _payment_hold() -> timedelta:
    return getattr(settings, "CHECKOUT_PAYMENT_HOLD", PAYMENT_HOLD)


def clean_idempotency_key(key) -> str:
    key = key.strip() if isinstance(key, str) else ""
    if not key or len(key) > KEY_MAX_LENGTH:
        raise ValidationError(
            {"idempotency_key": [f"Send an Idempotency-Key header of 1 to {KEY_MAX_LENGTH} characters."]}
        )
    return key


def _step(checkout: Checkout, name: str, **detail: Any) -> None:
    CheckoutStep.objects.create(checkout=checkout, name=name, detail=detail)


def _steps_record(checkout: Checkout, steps: _Steps) -> None:
    """Several steps of one transaction in one INSERT, in the order given."""
    if steps:
        CheckoutStep.objects.bulk_create([CheckoutStep(checkout=checkout, name=n, detail=d) for n, d in steps])


def _money(value: Decimal) -> str:
    return f"{to_decimal(value):.2f}"


def _lock_buyer(user_id: int) -> None:
    """Serialize the checkout starts of one buyer (one open checkout at a time)."""
    list(User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True))


def _lock_checkout(checkout_id: int, *, buyer_id: int | None = None, with_method: bool = False) -> Checkout:
    """The checkout, locked (its row only); ``with_method`` reads its shipping method in the same query."""
    query = Checkout.objects.select_for_update(of=("self",)).filter(pk=checkout_id)
    if with_method:
        query = query.select_related("shipping_method")
    if buyer_id is not None:
        query = query.filter(buyer_id=buyer_id)
    checkout = query.first()
    if checkout is None:
        raise CheckoutNotFound("No such checkout.")
    return checkout


def _set_checkout_status(checkout: Checkout, status: str) -> None:
    states.check_checkout(checkout.status, status)
    checkout.status = status
    fields = ["status", "updated_at"]
    if status == CS.PAYING:
        checkout.paying_since = timezone.now()
        fields.append("paying_since")
    checkout.save(update_fields=fields)


def _new_order_number() -> str:
    return NUMBER_PREFIX + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


# --- checkout start ----------------------------------------------------------------------------------


def _address_snapshot(*, user, address_id=None, address: dict | None = None) -> dict[str, str]:
    if address_id is not None:
        if isinstance(address_id, bool) or not isinstance(address_id, int):
            raise ValidationError({"address_id": ["Choose one of your saved addresses."]})
        saved = Address.objects.filter(user=user, pk=address_id).first()
        if saved is None:
            raise ValidationError({"address_id": ["Choose one of your saved addresses."]})
    elif address:
        if not isinstance(address, dict):
            raise ValidationError({"address": ["An address has full_name, line1, city, postal_code and country."]})
        values = {}
        for name in ADDRESS_FIELDS:
            value = address.get(name, "")
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise ValidationError({f"address.{name}": ["Enter text."]})
            values[name] = value.strip()
        values["country"] = values["country"].upper()
        saved = Address(user=user, **values)
        try:
            saved.full_clean(exclude=["user"], validate_constraints=False)
        except ValidationError as exc:
            raise ValidationError({f"address.{k}": v for k, v in exc.message_dict.items()}) from None
        if not re.fullmatch(r"[A-Z]{2}", saved.country):
            raise ValidationError({"address.country": ["Enter a two-letter country code, such as DE or FR."]})
    else:
        saved = Address.objects.filter(user=user).first()  # the default first (Address.Meta.ordering)
        if saved is None:
            raise ValidationError({"address": ["Give a delivery address."]})
    return {name: getattr(saved, name) for name in ADDRESS_FIELDS}


def _shipping_method(code) -> ShippingMethod:
    method = ShippingMethod.objects.filter(code=code, active=True).first() if isinstance(code, str) and code else None
    if method is None:
        raise ValidationError({"shipping_method": ["Choose one of the shipping methods offered."]})
    return method


def checkout_start(
    *,
    user,
    idempotency_key: str,
    shipping_method: str,
    address_id: int | None = None,
    address: dict | None = None,
    coupon: str = "",
) -> tuple[Checkout, bool]:
    """Start a checkout of the buyer's cart: reserve its stock until ``expires_at``, take one use of
    the coupon and price it. Returns ``(checkout, created)``; the same ``idempotency_key`` again
    returns the same checkout (``created`` False), finishing its start if that was interrupted.

    The buyer's previous reserved checkout is abandoned (stock and coupon released). Raises
    ValidationError (shipping method, address, coupon as ``coupon``), EmptyCart, OutOfStock (with
    ``skus``), FlashSaleUnavailable, CouponInvalid, CheckoutConflict (the previous checkout is being
    paid), CheckoutExpired (a replay of a start that was interrupted and lapsed) and
    cart's CartUnavailable.
    """
    key = clean_idempotency_key(idempotency_key)
    existing = Checkout.objects.filter(buyer=user, idempotency_key=key).first()
    if existing is not None:
        return _checkout_finish_start(existing), False
    method = _shipping_method(shipping_method)
    snapshot = _address_snapshot(user=user, address_id=address_id, address=address)
    coupon_code = promotion_services.coupon_code_normalize(coupon) if isinstance(coupon, str) else ""
    if coupon is not None and not isinstance(coupon, str):
        raise ValidationError({"coupon": ["Enter a coupon code."]})

    cart = cart_selectors.cart_get(owner=cart_services.CartOwner(user=user))
    if not cart.lines:
        raise EmptyCart("Your cart is empty.")
    variants = {
        variant.sku: variant
        for variant in Variant.objects.filter(sku__in=[line.sku for line in cart.lines]).select_related(
            "product__category"
        )
    }
    currencies = {line.currency for line in cart.lines}
    if len(currencies) > 1:
        raise ValidationError({"cart": ["Items priced in different currencies cannot be paid together."]})
    currency = currencies.pop()
    lines = []
    for line in cart.lines:
        variant = variants.get(line.sku)
        if variant is None:  # deleted between the cart read and now
            raise OutOfStock([line.sku])
        lines.append(
            CheckoutLine(
                variant=variant,
                seller_id=variant.product.seller_id,
                sku=line.sku,
                title=line.title,
                quantity=line.quantity,
                unit_price=line.current_price,
                currency=line.currency,
                weight_grams=variant.weight_grams,
                subtotal=to_decimal(line.current_price * line.quantity),
                total=to_decimal(line.current_price * line.quantity),
            )
        )
    price_changes = [
        {"sku": line.sku, "old": _money(line.unit_price), "new": _money(line.current_price)}
        for line in cart.price_changes
    ]
    if coupon_code:  # refuse a coupon that cannot apply before anything is held
        promotion_services.coupon_quote(
            code=coupon_code, user_id=user.pk, subtotal_by_seller=_subtotals(lines), currency=currency
        )

    with transaction.atomic():
        _lock_buyer(user.pk)
        existing = Checkout.objects.filter(buyer=user, idempotency_key=key).first()
        if existing is None:
            previous = (
                Checkout.objects.select_for_update().filter(buyer=user, status__in=Checkout.OPEN_STATUSES).first()
            )
            if previous is not None:
                if previous.status == CS.PAYING:
                    raise CheckoutConflict(
                        "Your previous checkout is being paid; wait a moment for its result.", checkout_id=previous.pk
                    )
                _release_locked(previous, CS.ABANDONED, reason="replaced by a new checkout")
            checkout = Checkout.objects.create(
                buyer=user,
                idempotency_key=key,
                address=snapshot,
                shipping_method=method,
                coupon_code=coupon_code,
                currency=currency,
                subtotal=sum((line.subtotal for line in lines), ZERO),
                total=sum((line.subtotal for line in lines), ZERO),
                price_changes=price_changes,
                expires_at=timezone.now() + checkout_ttl(),
            )
            for line in lines:
                line.checkout = checkout
            CheckoutLine.objects.bulk_create(lines)
            _step(checkout, "started", lines=len(lines))
    if existing is not None:
        return _checkout_finish_start(existing), False
    return _checkout_finish_start(checkout, lines=lines), True


def _subtotals(lines: Sequence[CheckoutLine]) -> dict[int, Decimal]:
    subtotals: dict[int, Decimal] = {}
    for line in lines:
        subtotals[line.seller_id] = subtotals.get(line.seller_id, ZERO) + to_decimal(line.unit_price * line.quantity)
    return subtotals


def _checkout_finish_start(checkout: Checkout, *, lines: list[CheckoutLine] | None = None) -> Checkout:
    """Steps 2-4 of a start (reserve, redeem, price); each idempotent, each skipped once done.
    ``lines``: the checkout's lines just created (variant, product and category loaded), else read."""
    if checkout.is_priced or checkout.status != CS.RESERVED:
        return checkout
    if checkout.expires_at <= timezone.now():
        with transaction.atomic():
            locked = _lock_checkout(checkout.pk)
            if locked.status == CS.RESERVED:
                _release_locked(locked, CS.EXPIRED, reason="start not finished in time")
        raise CheckoutExpired("This checkout expired before it was ready. Start again from your cart.")
    if lines is None:
        lines = list(checkout.lines.select_related("variant__product__category").order_by("id"))
    try:
        reservation = inventory_services.reservation_create(
            key=checkout.reservation_key, lines=[(line.sku, line.quantity) for line in lines], ttl=checkout_ttl()
        )
    except (OutOfStock, FlashSaleUnavailable):
        _checkout_discard(checkout)
        raise
    quote = None
    if checkout.coupon_code:
        try:
            quote = promotion_services.coupon_redeem(
                code=checkout.coupon_code,
                user_id=checkout.buyer_id,
                subtotal_by_seller=_subtotals(lines),
                currency=checkout.currency,
                reference=checkout.coupon_reference,
            )
        except CouponInvalid:
            _checkout_discard(checkout)
            raise
    with transaction.atomic():
        locked = _lock_checkout(checkout.pk, with_method=True)
        if locked.is_priced:
            return locked
        replaced = locked.status != CS.RESERVED
        if replaced:  # abandoned by a newer start meanwhile: give back what we took
            _release_holds(locked)
        else:
            steps = [("reserved", {"reservation_id": reservation.pk, "expires_at": reservation.expires_at.isoformat()})]
            if quote is not None:
                steps.append(("coupon_redeemed", {"coupon_id": quote.coupon_id}))
                locked.coupon_id = quote.coupon_id
            _price_locked(locked, lines, quote)
            locked.reservation = reservation
            locked.expires_at = reservation.expires_at
            locked.save(update_fields=[*PRICED_FIELDS, "coupon_id", "reservation", "expires_at", "updated_at"])
            steps.append(("priced", {"total": _money(locked.total)}))
            _steps_record(locked, steps)
    if replaced:  # raised after the commit, so the release above stands
        raise CheckoutConflict("This checkout was replaced by a newer one.")
    return locked


def _price_locked(checkout: Checkout, lines: list[CheckoutLine], quote) -> None:
    rates = tax_rates_for(
        country=checkout.address.get("country", ""),
        category_paths={line.variant.product.category.path for line in lines},
    )
    inputs = [
        pricing.LineInput(
            sku=line.sku,
            seller_id=line.seller_id,
            quantity=line.quantity,
            unit_price=line.unit_price,
            weight_grams=line.weight_grams,
            tax_rate=rates.get(line.variant.product.category.path, Decimal("0")),
        )
        for line in lines
    ]
    priced = pricing.price(
        lines=inputs,
        currency=checkout.currency,
        method=checkout.shipping_method,
        discount_by_seller=quote.discount_by_seller if quote else None,
        free_shipping_sellers=quote.free_shipping_sellers if quote else frozenset(),
    )
    for line, line_input, amounts in zip(lines, inputs, priced.lines, strict=True):
        line.tax_rate = line_input.tax_rate
        line.subtotal, line.discount, line.shipping = amounts.subtotal, amounts.discount, amounts.shipping
        line.tax, line.total = amounts.tax, amounts.total
    CheckoutLine.objects.bulk_update(lines, ["tax_rate", "subtotal", "discount", "shipping", "tax", "total"])
    checkout.packages.all().delete()
    CheckoutPackage.objects.bulk_create(
        CheckoutPackage(
            checkout=checkout,
            seller_id=package.seller_id,
            weight_grams=package.weight_grams,
            subtotal=package.subtotal,
            discount=package.discount,
            shipping=package.shipping,
            tax=package.tax,
            total=package.total,
        )
        for package in priced.packages.values()
    )
    checkout.subtotal, checkout.discount, checkout.shipping = priced.subtotal, priced.discount, priced.shipping
    checkout.tax, checkout.total = priced.tax, priced.total


def _checkout_discard(checkout: Checkout) -> None:
    """Undo a start that could not be completed (no stock, coupon refused): release what it holds
    and delete it, so the buyer can start again with the same key."""
    with transaction.atomic():
        locked = Checkout.objects.select_for_update().filter(pk=checkout.pk).first()
        if locked is None:
            return
        _release_holds(locked)
        if locked.status == CS.RESERVED and not locked.is_priced:
            locked.delete()


def _release_holds(checkout: Checkout) -> None:
    """Give back the checkout's stock and coupon use (both idempotent). Call holding its lock."""
    reservation = checkout.reservation or inventory_selectors.reservation_for_key(key=checkout.reservation_key)
    if reservation is not None:
        inventory_services.reservation_release(reservation_id=reservation.pk)
    if checkout.coupon_code:
        promotion_services.coupon_release(reference=checkout.coupon_reference)


def _release_locked(checkout: Checkout, status: str, *, reason: str) -> None:
    """Close a checkout that will not be paid (abandoned or expired): release its stock and coupon
    and fail its pending order. Call holding the checkout's lock."""
    _set_checkout_status(checkout, status)
    _release_holds(checkout)
    order = Order.objects.select_for_update().filter(checkout=checkout).first()
    if order is not None and order.status == Order.Status.PENDING_PAYMENT:
        _order_fail_locked(order, note=reason)
    _step(checkout, status, reason=reason)


def checkout_abandon(*, user, checkout_id: int) -> Checkout:
    """The buyer gives up: the stock and coupon are released at once, a pending order fails.
    Abandoning twice is harmless. Raises CheckoutNotFound, CheckoutConflict while a payment is in
    flight or once paid, CheckoutExpired when it expired already."""
    with transaction.atomic():
        checkout = _lock_checkout(checkout_id, buyer_id=user.pk)
        if checkout.status == CS.ABANDONED:
            return checkout
        if checkout.status == CS.PAYING:
            raise CheckoutConflict("A payment of this checkout is in progress; it cannot be abandoned now.")
        if checkout.status == CS.PAID:
            raise CheckoutConflict(
                "This checkout is paid; cancel the order instead.", order_number=checkout.order.number
            )
        if checkout.status == CS.EXPIRED:
            raise CheckoutExpired("This checkout has expired; its stock was released already.")
        _release_locked(checkout, CS.ABANDONED, reason="abandoned by the buyer")
    return checkout


def checkouts_expire(*, now: datetime | None = None) -> int:
    """Release every reserved checkout past ``expires_at`` (stock, coupon use; a pending order
    fails). A checkout being paid is never expired here: its payment may have gone through
    (``orders_resume`` settles it first). Each in its own short transaction, skipping rows locked
    by a payment right now. Returns how many expired."""
    now = now or timezone.now()
    due = list(
        Checkout.objects.filter(status=CS.RESERVED, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)
    )
    expired = 0
    for checkout_id in due:
        with transaction.atomic():
            checkout = (
                Checkout.objects.select_for_update(skip_locked=True)
                .filter(pk=checkout_id, status=CS.RESERVED, expires_at__lte=now)
                .first()
            )
            if checkout is None:
                continue
            _release_locked(checkout, CS.EXPIRED, reason="reservation expired")
            expired += 1
    if expired:
        logger.info("orders: %d checkouts expired", expired)
    return expired


# --- paying ------------------------------------------------------------------------------------------


def _payment_key(checkout: Checkout, idempotency_key: str) -> str:
    digest = sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"checkout:{checkout.pk}:pay:{digest}"


def checkout_pay(*, user, checkout_id: int, idempotency_key: str, token: str, gateway: str = "") -> PayResult:
    """Pay a checkout with a gateway token. The same ``idempotency_key`` again returns the stored
    result and charges nothing; a concurrent pay of the same checkout is refused (CheckoutConflict)
    while this one runs, so the buyer is charged once.

    Answers (``PayResult.status_code``): 201 confirmed; 402 declined and 503 no gateway could take
    it (the checkout is reserved again: pay again with another token and key until ``expires_at``);
    400 invalid token; 202 the outcome is unknown (settled later). Raises CheckoutNotFound,
    CheckoutExpired (410), CheckoutConflict (paid already, or a payment in flight), ValidationError,
    InvalidPaymentToken for a token no gateway could have issued, a card number above all (checked
    before anything is stored: a card number is never stored, logged or echoed).
    """
    key = clean_idempotency_key(idempotency_key)
    payment_services.payment_token_validate(token=token)
    gateway = gateway.strip() if isinstance(gateway, str) else ""
    if gateway and gateway not in settings.PAYMENT_GATEWAYS:
        raise ValidationError({"gateway": [f"Choose one of: {', '.join(settings.PAYMENT_GATEWAYS)}."]})
    expired = False
    with transaction.atomic():
        checkout = _lock_checkout(checkout_id, buyer_id=user.pk, with_method=True)
        attempt = checkout.attempts.filter(idempotency_key=key).first()
        if attempt is not None:
            return _replay(checkout, attempt)
        if checkout.status == CS.PAID:
            raise CheckoutConflict("This checkout is paid already.", order_number=checkout.order.number)
        if checkout.status == CS.PAYING:
            raise CheckoutConflict("A payment of this checkout is in progress; wait for its result.")
        if checkout.status in (CS.ABANDONED, CS.EXPIRED):
            raise CheckoutExpired("This checkout is no longer open. Start again from your cart.")
        if not checkout.is_priced:
            raise CheckoutConflict("This checkout is not ready yet; start it again with the same Idempotency-Key.")
        if checkout.expires_at <= timezone.now():
            _release_locked(checkout, CS.EXPIRED, reason="reservation expired before payment")
            expired = True
        else:
            steps: _Steps = []
            order = _order_for_checkout(checkout, steps=steps)
            attempt = PaymentAttempt.objects.create(
                checkout=checkout,
                idempotency_key=key,
                payment_key=_payment_key(checkout, key),
                gateway=gateway,
                amount=checkout.total,
                currency=checkout.currency,
            )
            _set_checkout_status(checkout, CS.PAYING)
            inventory_services.reservation_extend(
                reservation_id=checkout.reservation_id, expires_at=timezone.now() + _payment_hold()
            )
            steps.append(("payment_started", {"attempt_id": attempt.pk, "gateway": gateway}))
            _steps_record(checkout, steps)
    if expired:
        raise CheckoutExpired("This checkout has expired and its stock was released. Start again from your cart.")

    try:
        charged = payment_services.payment_charge(
            idempotency_key=attempt.payment_key,
            reference=order.number,
            amount=attempt.amount,
            currency=attempt.currency,
            token=token,
            gateway=gateway or None,
        )
        outcome = _Outcome(
            status=charged.status,
            intent_id=str(charged.intent_id or ""),
            gateway=charged.gateway or "",
            decline_code=charged.decline_code or "",
            message=charged.message or "",
        )
    except InvalidPaymentToken:
        outcome = _Outcome(status="invalid", message="The payment token is not valid.")
    except Exception:
        # Not a gateway's answer (those come back as outcomes): a bug or a lost database. The
        # payment may have been made, so it is left to orders_resume, which asks the gateway.
        logger.exception("orders: paying checkout %s failed; orders_resume will settle it", checkout.pk)
        outcome = _Outcome(status="unknown")
    return _payment_finish(attempt_id=attempt.pk, outcome=outcome)


def _replay(checkout: Checkout, attempt: PaymentAttempt) -> PayResult:
    """The answer to a repeated pay request: the stored one, or where the payment stands now."""
    if attempt.response_status is not None:
        order = Order.objects.filter(checkout=checkout).first()
        return PayResult(
            status_code=attempt.response_status,
            body=attempt.response or {},
            order=order,
            replayed=True,
            error=(attempt.response or {}).get("error", ""),
        )
    return _pending_result(checkout, replayed=True)


def _pending_result(checkout: Checkout, *, replayed: bool = False) -> PayResult:
    order = Order.objects.filter(checkout=checkout).first()
    body = {
        "order_number": order.number if order else None,
        "status": Order.Status.PENDING_PAYMENT,
        "detail": "The payment is being confirmed by the gateway; the order is confirmed as soon as it is.",
        "total": _money(checkout.total),
        "currency": checkout.currency,
    }
    return PayResult(status_code=202, body=body, order=order, replayed=replayed)


def _payment_finish(*, attempt_id: int, outcome: _Outcome) -> PayResult:
    """Apply a payment's outcome to its checkout, once: a second outcome for an attempt that is
    already settled (the webhook and the resume task racing) returns the stored result."""
    with transaction.atomic():
        # the checkout first, then its attempt: the lock order of checkout_pay (the buyer read along,
        # not locked: whose cart to clear)
        checkout = (
            Checkout.objects.select_for_update(of=("self",))
            .select_related("buyer")
            .filter(attempts__pk=attempt_id)
            .first()
        )
        if checkout is None:
            raise PaymentAttempt.DoesNotExist(f"No payment attempt has the id {attempt_id!r}.")
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt_id)
        if attempt.status not in (PaymentAttempt.Status.PENDING, PaymentAttempt.Status.UNKNOWN):
            return _replay(checkout, attempt)
        if outcome.intent_id:
            attempt.intent_id = outcome.intent_id
        attempt.gateway = outcome.gateway or attempt.gateway
        attempt.decline_code = outcome.decline_code[:60]
        attempt.message = outcome.message[:300]
        step = (f"payment_{outcome.status}", {"attempt_id": attempt.pk, "gateway": attempt.gateway})
        if outcome.status == "succeeded":
            result = _confirm_locked(checkout, attempt, steps=[step])
        elif outcome.status == "unknown":
            _steps_record(checkout, [step])
            attempt.status = PaymentAttempt.Status.UNKNOWN
            attempt.save(update_fields=ATTEMPT_OUTCOME_FIELDS)
            return _pending_result(checkout)
        else:
            _steps_record(checkout, [step])
            result = _reopen_locked(checkout, attempt, outcome)
        attempt.response_status, attempt.response = result.status_code, result.body
        attempt.finished_at = timezone.now()
        attempt.save(update_fields=ATTEMPT_OUTCOME_FIELDS)
        return result


def _reopen_locked(checkout: Checkout, attempt: PaymentAttempt, outcome: _Outcome) -> PayResult:
    """Nothing was charged: the checkout takes payments again until it expires."""
    status_map = {
        "declined": (PaymentAttempt.Status.DECLINED, 402, "payment_declined"),
        "invalid": (PaymentAttempt.Status.INVALID, 400, "invalid"),
        "aborted": (PaymentAttempt.Status.ABORTED, 503, "payment_unavailable"),
    }
    attempt.status, code, error = status_map.get(
        outcome.status, (PaymentAttempt.Status.UNAVAILABLE, 503, "payment_unavailable")
    )
    if checkout.expires_at <= timezone.now():
        _release_locked(checkout, CS.EXPIRED, reason=f"payment {outcome.status} after the reservation expired")
    else:
        _set_checkout_status(checkout, CS.RESERVED)
    details = {
        "payment_declined": "The payment was declined. Try another card or payment method.",
        "invalid": "The payment token is not valid. Enter your payment details again.",
        "payment_unavailable": "No payment gateway can take the payment right now. Try again in a moment.",
    }
    body = {
        "error": error,
        "detail": details[error],
        "decline_code": attempt.decline_code,
        "checkout_id": checkout.pk,
        "checkout_status": checkout.status,
        "expires_at": checkout.expires_at.isoformat(),
    }
    return PayResult(status_code=code, body=body, error=error)


def _confirm_locked(checkout: Checkout, attempt: PaymentAttempt, *, steps: _Steps) -> PayResult:
    """The payment succeeded: commit the stock, consume the coupon, confirm the order and its
    sub-orders, write the ledger, publish. Call holding the checkout's and the attempt's locks.
    ``steps``: saga steps of this transaction not yet recorded (written here, with this one's)."""
    attempt.status = PaymentAttempt.Status.SUCCEEDED
    order = Order.objects.select_for_update().get(checkout=checkout)
    try:
        inventory_services.reservation_commit(reservation_id=checkout.reservation_id)
    except ReservationLapsed as exc:
        _steps_record(checkout, steps)
        return _paid_without_stock_locked(checkout, attempt, order, exc.skus)
    steps.append(("stock_committed", {"reservation_id": checkout.reservation_id}))
    if checkout.coupon_code:
        promotion_services.coupon_consume(reference=checkout.coupon_reference)
        steps.append(("coupon_consumed", {}))
    sub_orders = list(
        order.sub_orders.select_for_update(of=("self",))
        .select_related("seller")
        .prefetch_related("lines")
        .order_by("id")
    )
    note = "payment received"
    order_events = _sub_orders_confirm(sub_orders, order=order, note=note)
    # _order_refresh_status, in the same INSERT and UPDATE as the sub-orders' events and the payment
    status = states.order_status_for(sub_order.status for sub_order in sub_orders)
    if status != order.status:
        order_events.append(OrderEvent(order=order, from_status=order.status, to_status=status, note=note))
        order.status = status
    OrderEvent.objects.bulk_create(order_events)
    order.payment_intent_id = attempt.intent_id
    order.payment_gateway = attempt.gateway
    order.confirmed_at = timezone.now()
    order.save(update_fields=["payment_intent_id", "payment_gateway", "confirmed_at", "status", "updated_at"])
    for sub_order in sub_orders:
        seller_services.ledger_record_sale(
            seller_id=sub_order.seller_id,
            reference=f"sub-order:{sub_order.pk}:sale",
            gross=sub_order.total,
            commission=sub_order.commission,
            currency=sub_order.currency,
        )
    _set_checkout_status(checkout, CS.PAID)
    steps.append(("confirmed", {"order_number": order.number}))
    _steps_record(checkout, steps)
    publish(events.ORDER_CONFIRMED, {"order_id": order.pk, "number": order.number, "buyer_id": order.buyer_id})
    buyer = checkout.buyer
    transaction.on_commit(lambda: _cart_clear_quietly(buyer), robust=True)
    return PayResult(status_code=201, body=_confirmed_body(order, sub_orders=sub_orders), order=order)


def _sub_orders_confirm(sub_orders: list[SubOrder], *, order: Order, note: str) -> list[OrderEvent]:
    """``_sub_order_move`` to confirmed for all of an order's sub-orders at once: one UPDATE, each
    move published; returns their events (unsaved) for the caller to insert. Call holding their locks."""
    for sub_order in sub_orders:
        states.check_sub_order(sub_order.status, SS.CONFIRMED)
    now = timezone.now()
    previous = {sub_order.pk: sub_order.status for sub_order in sub_orders}
    SubOrder.objects.filter(pk__in=list(previous)).update(status=SS.CONFIRMED, confirmed_at=now, updated_at=now)
    for sub_order in sub_orders:
        sub_order.status, sub_order.confirmed_at, sub_order.updated_at = SS.CONFIRMED, now, now
    for sub_order in sub_orders:
        _publish_sub_order_status(sub_order, order, previous[sub_order.pk], SS.CONFIRMED)
    return [
        OrderEvent(
            order_id=order.pk,
            sub_order=sub_order,
            from_status=previous[sub_order.pk],
            to_status=SS.CONFIRMED,
            note=note[:300],
        )
        for sub_order in sub_orders
    ]


def _paid_without_stock_locked(checkout: Checkout, attempt: PaymentAttempt, order: Order, skus) -> PayResult:
    """The rare end of a very late payment: the reservation lapsed and its units were sold to
    someone else. The order fails and the buyer gets the whole amount back (refunds stored here,
    issued by the caller after commit, or by orders_resume)."""
    _step(checkout, "stock_lapsed", skus=list(skus))
    order.payment_intent_id = attempt.intent_id
    order.payment_gateway = attempt.gateway
    order.save(update_fields=["payment_intent_id", "payment_gateway", "updated_at"])
    _order_fail_locked(order, note="the items sold out before the payment arrived")
    if checkout.status != CS.EXPIRED:
        _set_checkout_status(checkout, CS.EXPIRED)
    if checkout.coupon_code:
        promotion_services.coupon_release(reference=checkout.coupon_reference)
    refunds = [
        OrderRefund.objects.create(
            order=order,
            sub_order=sub_order,
            amount=sub_order.total,
            currency=sub_order.currency,
            reason="items sold out before the payment arrived",
            idempotency_key=f"sub-order:{sub_order.pk}:lapsed",
        ).pk
        for sub_order in order.sub_orders.filter(total__gt=0).order_by("id")
    ]
    transaction.on_commit(lambda: refunds_issue(refund_ids=refunds), robust=True)
    body = {
        "error": "out_of_stock",
        "detail": "Your payment arrived after the reservation lapsed and some items sold out; it is refunded in full.",
        "skus": list(skus),
    }
    return PayResult(status_code=409, body=body, order=order, error="out_of_stock")


def _cart_clear_quietly(buyer) -> None:
    try:
        cart_services.cart_clear(owner=cart_services.CartOwner(user=buyer))
    except cart_services.CartUnavailable:
        logger.warning("orders: the cart of buyer %s could not be cleared (Redis unavailable)", buyer.pk)


def _confirmed_body(order: Order, *, sub_orders: list[SubOrder] | None = None) -> dict[str, Any]:
    """``sub_orders``: the order's, by id, with their seller and lines loaded; read when not given."""
    if sub_orders is None:
        sub_orders = list(order.sub_orders.select_related("seller").prefetch_related("lines").order_by("id"))
    return {
        "order_number": order.number,
        "status": order.status,
        "total": _money(order.total),
        "currency": order.currency,
        "sub_orders": [
            {
                "id": sub_order.pk,
                "seller": sub_order.seller.slug,
                "status": sub_order.status,
                "total": _money(sub_order.total),
                "lines": [
                    {"sku": line.sku, "quantity": line.quantity, "unit_price": _money(line.unit_price)}
                    for line in sub_order.lines.all()
                ],
            }
            for sub_order in sub_orders
        ],
    }


def payment_settled(*, intent_id: str, status: str) -> PayResult | None:
    """A payment whose outcome was unknown settled (the ``payment.settled`` event, reconciliation):
    confirm its order or take the checkout back. Idempotent. None when no attempt has this intent."""
    attempt = PaymentAttempt.objects.filter(intent_id=str(intent_id)).first()
    if attempt is None:
        intent = (
            PaymentIntent.objects.filter(pk=intent_id).only("idempotency_key").first()
            if str(intent_id).isdigit()
            else None
        )
        attempt = PaymentAttempt.objects.filter(payment_key=intent.idempotency_key).first() if intent else None
    if attempt is None:
        return None
    return _apply_settled(attempt, str(intent_id), status)


def _apply_settled(attempt: PaymentAttempt, intent_id: str, status: str) -> PayResult | None:
    if status not in ("succeeded", "declined", "unavailable"):
        return None  # still unsettled: "unknown"
    outcome = _Outcome(status=status, intent_id=intent_id)
    return _payment_finish(attempt_id=attempt.pk, outcome=outcome)


def orders_resume(*, now: datetime | None = None) -> int:
    """Finish or compensate what a dead worker or a lost answer left behind; returns how many
    checkouts were settled. Checkouts ``paying`` for longer than CHECKOUT_PAYMENT_STALE_AFTER: the
    payments app is asked where the charge stands (never to charge again): succeeded -> confirmed,
    declined or never made -> reserved again (or expired), still unknown -> stock held longer.
    Refunds still pending are issued again under their keys."""
    now = now or timezone.now()
    settled = 0
    stale = list(
        Checkout.objects.filter(status=CS.PAYING, paying_since__lte=now - _payment_stale_after()).values_list(
            "pk", flat=True
        )
    )
    for checkout_id in stale:
        try:
            if _resume_payment(checkout_id, now=now):
                settled += 1
        except Exception:
            logger.exception("orders: resuming the payment of checkout %s failed", checkout_id)
    refunds_issue(
        refund_ids=list(OrderRefund.objects.filter(status=OrderRefund.Status.PENDING).values_list("pk", flat=True))
    )
    return settled


def _resume_payment(checkout_id: int, *, now: datetime) -> bool:
    attempt = (
        PaymentAttempt.objects.filter(
            checkout_id=checkout_id, status__in=[PaymentAttempt.Status.PENDING, PaymentAttempt.Status.UNKNOWN]
        )
        .order_by("-created_at")
        .first()
    )
    if attempt is None:  # paying without an open attempt: cannot happen short of a bug; reopen safely
        with transaction.atomic():
            checkout = _lock_checkout(checkout_id)
            if checkout.status == CS.PAYING:
                _set_checkout_status(checkout, CS.RESERVED)
        return True
    intent_id = attempt.intent_id
    if not intent_id:
        # No intent yet: the worker died before the charge, or stalls just before it. Closing the
        # key in payments settles which: once closed, a late charge with it calls no gateway.
        number = Order.objects.filter(checkout_id=checkout_id).values_list("number", flat=True).first() or ""
        started = payment_services.payment_charge_forgo(
            idempotency_key=attempt.payment_key, reference=number, amount=attempt.amount, currency=attempt.currency
        )
        if started is None:  # never called, and now it never will be: the buyer may pay again
            _payment_finish(attempt_id=attempt.pk, outcome=_Outcome(status="aborted"))
            return True
        intent_id = str(started.intent_id)
    settled = payment_services.payment_settle(intent_id=intent_id)
    if _apply_settled(attempt, str(settled.intent_id or intent_id), settled.status) is not None:
        return True
    checkout = Checkout.objects.get(pk=checkout_id)
    inventory_services.reservation_extend(reservation_id=checkout.reservation_id, expires_at=now + _payment_hold())
    return False


# --- orders ------------------------------------------------------------------------------------------


def _order_for_checkout(checkout: Checkout, *, steps: _Steps) -> Order:
    """The checkout's order, created ``pending_payment`` with one sub-order per seller the first
    time (``Order.checkout`` is unique). Lines copy the checkout's allocated amounts and snapshot
    the commission rate. Call holding the checkout's lock; the ``order_created`` step is appended to
    ``steps`` for the caller to record."""
    existing = Order.objects.filter(checkout=checkout).first()
    if existing is not None:
        return existing
    lines = list(checkout.lines.select_related("variant__product__category", "seller").order_by("id"))
    for _ in range(5):
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    number=_new_order_number(),
                    buyer_id=checkout.buyer_id,
                    checkout=checkout,
                    currency=checkout.currency,
                    subtotal=checkout.subtotal,
                    discount=checkout.discount,
                    shipping=checkout.shipping,
                    tax=checkout.tax,
                    total=checkout.total,
                    address=checkout.address,
                    shipping_method_name=checkout.shipping_method.name,
                    coupon_code=checkout.coupon_code,
                )
            break
        except IntegrityError:  # a number taken already (one in 30^8): draw again
            continue
    else:
        raise RuntimeError("no free order number after 5 draws")
    by_seller: dict[int, list[CheckoutLine]] = {}
    for line in lines:
        by_seller.setdefault(line.seller_id, []).append(line)
    rates: dict[tuple[int, int | None], Decimal] = {}  # one look-up per seller and category, not per line
    sub_orders, lines_by_seller = [], {}
    for seller_id, seller_lines in by_seller.items():
        order_lines = []
        for line in seller_lines:
            category = line.variant.product.category
            rate_key = (seller_id, category.pk if category is not None else None)
            if rate_key not in rates:
                rates[rate_key] = seller_selectors.commission_rate_for(seller=line.seller, category=category)
            rate = rates[rate_key]
            order_lines.append(
                OrderLine(
                    variant=line.variant,
                    product_id=line.variant.product_id,
                    sku=line.sku,
                    title=line.title,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    currency=line.currency,
                    subtotal=line.subtotal,
                    discount=line.discount,
                    shipping=line.shipping,
                    tax_rate=line.tax_rate,
                    tax=line.tax,
                    total=line.total,
                    commission_rate=rate,
                    # on what the seller sells the goods for: after the discount, before shipping and tax
                    commission_amount=to_decimal(rate * (line.subtotal - line.discount)),
                )
            )
        sub_order = SubOrder(order=order, seller_id=seller_id, currency=checkout.currency)
        for name in ("subtotal", "discount", "shipping", "tax", "total"):
            setattr(sub_order, name, sum((getattr(line, name) for line in order_lines), ZERO))
        sub_order.commission = sum((line.commission_amount for line in order_lines), ZERO)
        sub_orders.append(sub_order)
        lines_by_seller[seller_id] = order_lines
    SubOrder.objects.bulk_create(sub_orders)  # with their totals: one INSERT, no UPDATE after
    for sub_order in sub_orders:
        for order_line in lines_by_seller[sub_order.seller_id]:
            order_line.sub_order = sub_order
    OrderLine.objects.bulk_create([line for sub_order in sub_orders for line in lines_by_seller[sub_order.seller_id]])
    OrderEvent.objects.bulk_create(
        [
            *(OrderEvent(order=order, sub_order=sub_order, to_status=SS.PENDING_PAYMENT) for sub_order in sub_orders),
            OrderEvent(order=order, to_status=Order.Status.PENDING_PAYMENT),
        ]
    )
    steps.append(("order_created", {"order_number": order.number}))
    return order


def _order_fail_locked(order: Order, *, note: str) -> None:
    for sub_order in order.sub_orders.select_for_update().order_by("id"):
        if sub_order.status == SS.PENDING_PAYMENT:
            _sub_order_move(sub_order, SS.FAILED, actor=None, note=note, announce=False)
    _order_refresh_status(order, actor=None, note=note)
    publish(events.ORDER_FAILED, {"order_id": order.pk, "number": order.number, "buyer_id": order.buyer_id})


def _order_refresh_status(order: Order, *, actor, note: str = "") -> str:
    """Derive the order's status from its sub-orders; record and store it when it changes."""
    status = states.order_status_for(order.sub_orders.values_list("status", flat=True))
    if status != order.status:
        OrderEvent.objects.create(
            order=order, actor=_actor(actor), from_status=order.status, to_status=status, note=note[:300]
        )
        order.status = status
        order.save(update_fields=["status", "updated_at"])
    return status


def _actor(actor):
    return actor if getattr(actor, "pk", None) else None


def _sub_order_move(sub_order: SubOrder, status: str, *, actor, note: str = "", announce: bool = True) -> None:
    """Move a sub-order (validated by the transition table), stamp it, record and publish the move.
    Call holding its lock."""
    states.check_sub_order(sub_order.status, status)
    previous = sub_order.status
    now = timezone.now()
    sub_order.status = status
    stamp = {
        SS.CONFIRMED: "confirmed_at",
        SS.SHIPPED: "shipped_at",
        SS.DELIVERED: "delivered_at",
        SS.CANCELLED: "cancelled_at",
    }
    fields = ["status", "updated_at"]
    if status in stamp:
        setattr(sub_order, stamp[status], now)
        fields.append(stamp[status])
    sub_order.save(update_fields=[*fields, "carrier", "tracking_number"])
    OrderEvent.objects.create(
        order_id=sub_order.order_id,
        sub_order=sub_order,
        actor=_actor(actor),
        from_status=previous,
        to_status=status,
        note=note[:300],
    )
    if announce:
        _publish_sub_order_status(sub_order, sub_order.order, previous, status)


def _publish_sub_order_status(sub_order: SubOrder, order: Order, from_status: str, to_status: str) -> None:
    publish(
        events.SUB_ORDER_STATUS_CHANGED,
        {
            "sub_order_id": sub_order.pk,
            "order_id": order.pk,
            "number": order.number,
            "seller_id": sub_order.seller_id,
            "buyer_id": order.buyer_id,
            "from": from_status,
            "to": to_status,
        },
    )


def _lock_sub_order(sub_order_id: int, *, seller_id: int | None = None) -> SubOrder:
    query = SubOrder.objects.select_for_update().select_related("order").filter(pk=sub_order_id)
    if seller_id is not None:
        query = query.filter(seller_id=seller_id)
    return query.get()


def sub_order_process(*, sub_order: SubOrder, actor=None) -> SubOrder:
    """The seller starts preparing the package (confirmed -> processing)."""
    with transaction.atomic():
        locked = _lock_sub_order(sub_order.pk)
        _sub_order_move(locked, SS.PROCESSING, actor=actor)
        _order_refresh_status(locked.order, actor=actor)
    return locked


def sub_order_ship(*, sub_order: SubOrder, carrier: str, tracking_number: str, actor=None) -> SubOrder:
    """The seller handed the package to ``carrier`` (from confirmed or processing)."""
    carrier = carrier.strip() if isinstance(carrier, str) else ""
    tracking_number = tracking_number.strip() if isinstance(tracking_number, str) else ""
    errors = {}
    if not carrier or len(carrier) > CARRIER_MAX_LENGTH:
        errors["carrier"] = [f"Name the carrier (1 to {CARRIER_MAX_LENGTH} characters)."]
    if not tracking_number or len(tracking_number) > TRACKING_MAX_LENGTH:
        errors["tracking_number"] = [f"Enter the tracking number (1 to {TRACKING_MAX_LENGTH} characters)."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _lock_sub_order(sub_order.pk)
        states.check_sub_order(locked.status, SS.SHIPPED)
        locked.carrier, locked.tracking_number = carrier, tracking_number
        _sub_order_move(locked, SS.SHIPPED, actor=actor, note=f"{carrier} {tracking_number}")
        _order_refresh_status(locked.order, actor=actor)
    return locked


def sub_order_deliver(*, sub_order: SubOrder, actor=None) -> SubOrder:
    """The package arrived (shipped -> delivered); returns may be requested from now on."""
    with transaction.atomic():
        locked = _lock_sub_order(sub_order.pk)
        _sub_order_move(locked, SS.DELIVERED, actor=actor)
        _order_refresh_status(locked.order, actor=actor)
    return locked


def _stock_restore(sub_order: SubOrder) -> None:
    lines = [(line.sku, line.quantity) for line in sub_order.lines.all()]
    if lines:
        inventory_services.stock_restock(
            lines=lines, reason=f"order {sub_order.order.number} cancelled", key=f"sub-order:{sub_order.pk}:cancel"
        )


def _cancel_locked(sub_order: SubOrder, *, actor, note: str) -> OrderRefund | None:
    _sub_order_move(sub_order, SS.CANCELLED, actor=actor, note=note)
    _stock_restore(sub_order)
    amount = sub_order.total - sub_order.refunded_total
    if amount <= 0:
        return None
    refund = OrderRefund.objects.create(
        order=sub_order.order,
        sub_order=sub_order,
        amount=amount,
        commission=sub_order.commission,
        currency=sub_order.currency,
        reason=note[:200] or "sub-order cancelled",
        idempotency_key=f"sub-order:{sub_order.pk}:cancel",
    )
    sub_order.refunded_total += amount
    sub_order.save(update_fields=["refunded_total", "updated_at"])
    return refund


def sub_order_cancel(*, sub_order: SubOrder, actor=None, reason: str = "") -> SubOrder:
    """Cancel one seller's part (from confirmed or processing): its stock back on hand, its stored
    amounts refunded, the seller's ledger credited back. Raises InvalidTransition otherwise."""
    with transaction.atomic():
        locked = _lock_sub_order(sub_order.pk)
        refund = _cancel_locked(locked, actor=actor, note=reason or "cancelled")
        _order_refresh_status(locked.order, actor=actor)
    if refund is not None:
        refunds_issue(refund_ids=[refund.pk])
    return locked


def order_cancel(*, order: Order, actor=None, reason: str = "") -> Order:
    """Cancel the whole order: every sub-order must be confirmed or processing (cancelled ones are
    left as they are). Stock restored, each sub-order refunded. Raises InvalidTransition when any
    sub-order has shipped (or the order is not paid)."""
    refunds = []
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        sub_orders = list(locked.sub_orders.select_for_update().select_related("order").order_by("id"))
        open_ones = [s for s in sub_orders if s.status != SS.CANCELLED]
        if not open_ones or any(s.status not in states.CANCELLABLE for s in open_ones):
            raise InvalidTransition(
                "order",
                locked.status,
                Order.Status.CANCELLED,
                "Only an order none of whose parts has shipped can be cancelled.",
            )
        for sub_order in open_ones:
            refund = _cancel_locked(sub_order, actor=actor, note=reason or "order cancelled")
            if refund is not None:
                refunds.append(refund.pk)
        _order_refresh_status(locked, actor=actor, note=reason or "order cancelled")
    refunds_issue(refund_ids=refunds)
    locked.refresh_from_db()
    return locked


# --- returns -----------------------------------------------------------------------------------------


def _returned_quantities(order_line_ids) -> dict[int, int]:
    """Units of each line already in a return that is not rejected."""
    return dict(
        ReturnLine.objects.filter(order_line_id__in=order_line_ids)
        .exclude(return_request__status=RS.REJECTED)
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
        .values_list("order_line_id", "units")
    )


def return_request(*, order: Order, lines: Sequence[dict], reason: str = "", actor=None) -> Return:
    """The buyer sends back units of a delivered sub-order: ``lines`` ``[{sku, quantity}]``, each at
    most the units delivered minus those already in a return. One return covers one seller's
    sub-order. Raises ValidationError, InvalidTransition (not delivered)."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": [f"At most {REASON_MAX_LENGTH} characters."]})
    if not isinstance(lines, list | tuple) or not lines:
        raise ValidationError({"lines": ["Choose at least one item to return."]})
    wanted: dict[str, int] = {}
    for entry in lines:
        sku = entry.get("sku") if isinstance(entry, dict) else None
        quantity = entry.get("quantity") if isinstance(entry, dict) else None
        if not isinstance(sku, str) or isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValidationError({"lines": ["Each line is a SKU of this order and a quantity of at least 1."]})
        wanted[sku] = wanted.get(sku, 0) + quantity
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        order_lines = {
            line.sku: line for line in OrderLine.objects.filter(sub_order__order=locked).select_related("sub_order")
        }
        unknown = sorted(set(wanted) - set(order_lines))
        if unknown:
            raise ValidationError({"lines": [f"This order has no item {', '.join(unknown)}."]})
        sub_orders = {order_lines[sku].sub_order_id for sku in wanted}
        if len(sub_orders) > 1:
            raise ValidationError({"lines": ["Return the items of one seller at a time."]})
        sub_order = SubOrder.objects.select_for_update().select_related("order").get(pk=sub_orders.pop())
        if sub_order.status != SS.DELIVERED:
            raise InvalidTransition("sub-order", sub_order.status, "returned", "Only delivered items can be returned.")
        already = _returned_quantities([order_lines[sku].pk for sku in wanted])
        too_many = [
            sku for sku, q in wanted.items() if q > order_lines[sku].quantity - already.get(order_lines[sku].pk, 0)
        ]
        if too_many:
            raise ValidationError(
                {"lines": [f"More units than can still be returned of {', '.join(sorted(too_many))}."]}
            )
        the_return = Return.objects.create(order=locked, sub_order=sub_order, reason=reason, currency=locked.currency)
        return_lines = []
        for sku, quantity in wanted.items():
            line = order_lines[sku]
            before = already.get(line.pk, 0)
            # cumulative shares: returning a line unit by unit adds up exactly to its stored total
            amount = pricing.share_of(line.total, part=before + quantity, whole=line.quantity) - pricing.share_of(
                line.total, part=before, whole=line.quantity
            )
            commission = pricing.share_of(
                line.commission_amount, part=before + quantity, whole=line.quantity
            ) - pricing.share_of(line.commission_amount, part=before, whole=line.quantity)
            return_lines.append(
                ReturnLine(
                    return_request=the_return, order_line=line, quantity=quantity, amount=amount, commission=commission
                )
            )
        ReturnLine.objects.bulk_create(return_lines)
        the_return.amount = sum((line.amount for line in return_lines), ZERO)
        the_return.commission = sum((line.commission for line in return_lines), ZERO)
        the_return.save(update_fields=["amount", "commission"])
        _return_record(the_return, "", RS.REQUESTED, actor=actor, note=reason)
    return the_return


def _return_record(the_return: Return, previous: str, status: str, *, actor, note: str = "") -> None:
    OrderEvent.objects.create(
        order_id=the_return.order_id,
        sub_order_id=the_return.sub_order_id,
        return_request=the_return,
        actor=_actor(actor),
        from_status=previous,
        to_status=f"return_{status}",
        note=note[:300],
    )
    order = the_return.order
    publish(
        events.RETURN_STATUS_CHANGED,
        {
            "return_id": the_return.pk,
            "order_id": order.pk,
            "number": order.number,
            "seller_id": the_return.sub_order.seller_id,
            "buyer_id": order.buyer_id,
            "from": previous,
            "to": status,
        },
    )


def _return_move(the_return: Return, status: str, *, actor, note: str = "") -> None:
    states.check_return(the_return.status, status)
    previous = the_return.status
    the_return.status = status
    now = timezone.now()
    if status in (RS.APPROVED, RS.REJECTED):
        the_return.decided_at = now
    if status == RS.REFUNDED:
        the_return.refunded_at = now
    the_return.save()
    _return_record(the_return, previous, status, actor=actor, note=note)


def _lock_return(return_id: int) -> Return:
    return Return.objects.select_for_update().select_related("order", "sub_order").get(pk=return_id)


def return_approve(*, the_return: Return, actor=None, restock: bool = False) -> Return:
    """Approve a return: the stored amounts of its lines are refunded (approved, then refunded once
    the gateway confirms). ``restock``: the seller has the goods back in a state to sell again, and
    their units go back on hand (once, whatever the retries). Raises InvalidTransition unless it is
    requested."""
    with transaction.atomic():
        locked = _lock_return(the_return.pk)
        _return_move(locked, RS.APPROVED, actor=actor)  # the buyer sees its note: the restock is the seller's
        if restock:
            lines = [(line.order_line.sku, line.quantity) for line in locked.lines.select_related("order_line")]
            try:
                inventory_services.stock_restock(
                    lines=lines, reason=f"return {locked.pk} of order {locked.order.number}", key=f"return:{locked.pk}"
                )
            except ValidationError as exc:  # too many units on hand: nothing is approved either
                raise ValidationError({"restock": exc.messages}) from exc
        refund = None
        if locked.amount > 0:
            refund = OrderRefund.objects.create(
                order=locked.order,
                sub_order=locked.sub_order,
                return_request=locked,
                amount=locked.amount,
                commission=locked.commission,
                currency=locked.currency,
                reason="return approved",
                idempotency_key=f"return:{locked.pk}:refund",
            )
            SubOrder.objects.filter(pk=locked.sub_order_id).update(refunded_total=F("refunded_total") + locked.amount)
        else:
            _return_move(locked, RS.REFUNDED, actor=actor)
    if refund is not None:
        refunds_issue(refund_ids=[refund.pk])
    locked.refresh_from_db()
    return locked


def return_reject(*, the_return: Return, reason: str, actor=None) -> Return:
    """Refuse a return, saying why (shown to the buyer). Raises ValidationError, InvalidTransition."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": [f"Say why (1 to {REASON_MAX_LENGTH} characters)."]})
    with transaction.atomic():
        locked = _lock_return(the_return.pk)
        locked.rejection_reason = reason
        _return_move(locked, RS.REJECTED, actor=actor, note=reason)
    return locked


# --- refunds -----------------------------------------------------------------------------------------


def refunds_issue(*, refund_ids: Sequence[int]) -> int:
    """Issue pending refunds through the payments app, each under its own idempotency key (a retry
    refunds once), then record them: the order's refunded total, the seller's ledger, a return's
    ``refunded`` status, ``refund.issued``. A refund without an answer yet stays pending and is
    asked again (same key) by ``orders_resume``; one the gateway or payments refuse is ``failed``
    and logged for staff. Returns how many succeeded."""
    issued = 0
    for refund_id in refund_ids:
        refund = (
            OrderRefund.objects.select_related("order").filter(pk=refund_id, status=OrderRefund.Status.PENDING).first()
        )
        if refund is None:
            continue
        if not refund.order.payment_intent_id:
            logger.error("orders: refund %s has no payment to refund", refund.pk)
            continue
        try:
            outcome = payment_services.refund_create(
                intent_id=int(refund.order.payment_intent_id),
                amount=refund.amount,
                idempotency_key=refund.idempotency_key,
                reason=refund.reason,
            )
        except (payment_services.RefundNotAllowed, payment_services.IdempotencyKeyReused) as exc:
            # permanent: retrying with this key cannot help; staff look
            logger.error("orders: refund %s refused by payments: %s", refund.pk, exc)
            OrderRefund.objects.filter(pk=refund.pk).update(
                status=OrderRefund.Status.FAILED, attempts=refund.attempts + 1, last_error=str(exc)[:300]
            )
            continue
        except Exception as exc:
            logger.warning("orders: refund %s not issued yet: %r", refund.pk, exc)
            OrderRefund.objects.filter(pk=refund.pk).update(
                attempts=refund.attempts + 1, last_error=type(exc).__name__[:300]
            )
            continue
        if outcome.status == "failed":  # the gateway refused it: the same key would answer the same
            logger.error("orders: refund %s failed at the gateway", refund.pk)
            OrderRefund.objects.filter(pk=refund.pk).update(
                status=OrderRefund.Status.FAILED, attempts=refund.attempts + 1, last_error="refused by the gateway"
            )
            continue
        if outcome.status != "succeeded":  # pending at payments (no answer yet): asked again next run
            OrderRefund.objects.filter(pk=refund.pk).update(attempts=refund.attempts + 1, last_error="pending")
            continue
        if _refund_record(refund.pk, refund_id_at_gateway=str(outcome.refund_id or "")):
            issued += 1
    return issued


def _refund_record(refund_id: int, *, refund_id_at_gateway: str) -> bool:
    with transaction.atomic():
        refund = OrderRefund.objects.select_for_update().select_related("order", "sub_order").get(pk=refund_id)
        if refund.status != OrderRefund.Status.PENDING:
            return False
        refund.status = OrderRefund.Status.SUCCEEDED
        refund.payment_refund_id = refund_id_at_gateway
        refund.refunded_at = timezone.now()
        refund.attempts += 1
        refund.save()
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        order.refunded_total += refund.amount
        order.save(update_fields=["refunded_total", "updated_at"])
        if refund.sub_order.status != SS.FAILED:  # a failed sub-order's sale never reached the ledger
            seller_services.ledger_record_refund(
                seller_id=refund.sub_order.seller_id,
                reference=f"refund:{refund.idempotency_key}",
                gross=refund.amount,
                commission=refund.commission,
                currency=refund.currency,
            )
        if refund.return_request_id:
            the_return = _lock_return(refund.return_request_id)
            if the_return.status == RS.APPROVED:
                _return_move(the_return, RS.REFUNDED, actor=None)
        publish(
            events.REFUND_ISSUED,
            {
                "refund_id": refund.pk,
                "order_id": order.pk,
                "number": order.number,
                "sub_order_id": refund.sub_order_id,
                "return_id": refund.return_request_id,
                "amount": _money(refund.amount),
                "currency": refund.currency,
            },
        )
    return True
