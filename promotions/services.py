"""Coupons: quote a discount, reserve a use for a checkout, then consume or release it.

The checkout (orders) calls, in order: ``coupon_quote`` while the buyer types a code (no use taken),
``coupon_redeem`` when the checkout starts (validates and reserves one use, atomically),
``coupon_consume`` when the order is paid, ``coupon_release`` when the checkout is abandoned, expires
or fails. The three writes are idempotent per checkout ``reference``, so a retried step is harmless.

Limits are counted under the coupon's row lock (``SELECT ... FOR UPDATE``): concurrent checkouts on
one coupon queue for a moment on that row and each sees the uses the previous ones reserved, so the
total and per-customer limits hold however many buyers race for the last use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from shop.core.money import CENT, Money, to_decimal

from .models import CODE_MAX_LENGTH, Coupon, CouponRedemption

logger = logging.getLogger(__name__)

ACTIVE = CouponRedemption.ACTIVE_STATUSES
REFERENCE_MAX_LENGTH = CouponRedemption._meta.get_field("reference").max_length
_LOCK_RETRIES = 3  # a concurrent redeem of the same reference moved its coupon under us: look again


@dataclass(frozen=True)
class CouponQuote:
    """What a coupon takes off a checkout.

    ``discount_by_seller`` has an entry for every seller of the subtotals (0.00 where the coupon does
    not apply); each seller's amount never exceeds its subtotal and the amounts add up exactly to the
    discount. ``free_shipping_sellers`` are the sellers whose shipping the coupon pays.
    """

    coupon_id: int
    code: str
    discount_by_seller: dict[int, Decimal]
    free_shipping_sellers: frozenset[int]

    @property
    def discount_total(self) -> Decimal:
        return sum(self.discount_by_seller.values(), Decimal("0.00"))


class CouponInvalid(ValueError):
    """The coupon cannot be used for this checkout. ``reason`` is a stable code ("unknown",
    "expired", "not_started", "inactive", "min_subtotal", "exhausted", "already_used",
    "not_applicable"); the message is safe to show the buyer."""

    REASONS = frozenset(
        {"unknown", "expired", "not_started", "inactive", "min_subtotal", "exhausted", "already_used", "not_applicable"}
    )

    def __init__(self, reason: str, message: str):
        if reason not in self.REASONS:
            raise ValueError(f"unknown coupon refusal reason {reason!r}")
        super().__init__(message)
        self.reason = reason
        self.message = message


class _CouponMoved(Exception):
    """The reference's redemption changed between our read and our lock."""


# --- input ------------------------------------------------------------------------------------------


def coupon_code_normalize(code: str) -> str:
    """The stored form of a code: surrounding spaces dropped, upper-case."""
    return (code or "").strip().upper()


def _clean_subtotals(subtotal_by_seller: dict[int, Decimal], currency: str) -> dict[int, Decimal]:
    """Subtotals as cents; a float, a negative amount or a malformed currency is a caller's bug."""
    Money.zero(currency)  # raises ValueError for anything but an ISO 4217 code such as EUR
    cleaned: dict[int, Decimal] = {}
    for seller_id, amount in subtotal_by_seller.items():
        if not isinstance(seller_id, int) or isinstance(seller_id, bool):
            raise TypeError(f"seller ids are ints, not {seller_id!r}")
        value = to_decimal(amount)  # refuses floats
        if value < 0:
            raise ValueError(f"the subtotal of seller {seller_id} is negative: {value}")
        cleaned[seller_id] = value
    return cleaned


def _clean_reference(reference: str) -> str:
    reference = (reference or "").strip()
    if not reference or len(reference) > REFERENCE_MAX_LENGTH:
        raise ValueError(f"a checkout reference has 1 to {REFERENCE_MAX_LENGTH} characters, not {reference!r}")
    return reference


# --- the rules --------------------------------------------------------------------------------------


def _store_name(coupon: Coupon) -> str:
    return coupon.seller.store_name if coupon.seller_id else ""


def _check_dates(coupon: Coupon, now: datetime) -> None:
    if not coupon.active:
        raise CouponInvalid("inactive", "This coupon is no longer active.")
    if now < coupon.starts_at:
        starts = timezone.localtime(coupon.starts_at)
        raise CouponInvalid("not_started", f"This coupon can be used from {starts:%d %b %Y, %H:%M}.")
    if coupon.ends_at is not None and now >= coupon.ends_at:
        raise CouponInvalid("expired", "This coupon has expired.")


def _check_limits(coupon: Coupon, *, user_id: int | None, for_redeem: bool) -> None:
    """Total and per-customer limits. Exact only in coupon_redeem, under the coupon's row lock.

    A quote leaves out the buyer's own reserved uses: they belong to an open checkout that a new
    one replaces (and releases) before it redeems, so they must not refuse the new one's code.
    """
    own_reserved = 0
    if not for_redeem and user_id is not None and (coupon.max_uses or coupon.max_uses_per_customer):
        own_reserved = CouponRedemption.objects.filter(
            coupon=coupon, user_id=user_id, status=CouponRedemption.Status.RESERVED
        ).count()
    if coupon.max_uses is not None and coupon.uses - own_reserved >= coupon.max_uses:
        raise CouponInvalid("exhausted", "This coupon has been used up.")
    if coupon.max_uses_per_customer is None:
        return
    if user_id is None:
        if for_redeem:
            raise CouponInvalid("not_applicable", "Sign in to use this coupon.")
        return
    used = CouponRedemption.objects.filter(coupon=coupon, user_id=user_id, status__in=ACTIVE).count() - own_reserved
    if used >= coupon.max_uses_per_customer:
        raise CouponInvalid("already_used", "You have already used this coupon.")


def _compute(coupon: Coupon, subtotals: dict[int, Decimal], currency: str) -> CouponQuote:
    """Applicability, minimum subtotal and the amounts, once dates and limits have passed."""
    if currency != coupon.currency:
        raise CouponInvalid("not_applicable", f"This coupon is for orders in {coupon.currency}.")
    if coupon.seller_id is None:
        eligible = [seller_id for seller_id, amount in subtotals.items() if amount > 0]
    else:
        eligible = [coupon.seller_id] if subtotals.get(coupon.seller_id, Decimal(0)) > 0 else []
    if not eligible:
        if coupon.seller_id is not None:
            raise CouponInvalid("not_applicable", f"This coupon is for products from {_store_name(coupon)}.")
        raise CouponInvalid("not_applicable", "This coupon applies to none of the items in your cart.")
    eligible_subtotal = sum((subtotals[seller_id] for seller_id in eligible), Decimal("0.00"))
    if eligible_subtotal < coupon.min_subtotal:
        minimum = f"{coupon.min_subtotal:.2f} {coupon.currency}"
        if coupon.seller_id is not None:
            message = f"This coupon needs at least {minimum} of products from {_store_name(coupon)}."
        else:
            message = f"This coupon needs a subtotal of at least {minimum}."
        raise CouponInvalid("min_subtotal", message)

    if coupon.kind == Coupon.Kind.PERCENT:
        total = (eligible_subtotal * coupon.value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    elif coupon.kind == Coupon.Kind.FIXED:
        total = coupon.value
    else:
        total = Decimal("0.00")
    total = min(total, eligible_subtotal)
    discount_by_seller = dict.fromkeys(subtotals, Decimal("0.00"))
    if total > 0:
        # remainder cents go to the largest subtotals, so the parts add up to the discount exactly
        shares = Money(total, currency).allocate([subtotals[seller_id] for seller_id in eligible])
        for seller_id, share in zip(eligible, shares, strict=True):
            discount_by_seller[seller_id] = share.amount
    free_shipping = frozenset(eligible) if coupon.kind == Coupon.Kind.FREE_SHIPPING else frozenset()
    return CouponQuote(
        coupon_id=coupon.pk,
        code=coupon.code,
        discount_by_seller=discount_by_seller,
        free_shipping_sellers=free_shipping,
    )


def _find(code: str) -> Coupon:
    normalized = coupon_code_normalize(code)
    coupon = None
    if normalized and len(normalized) <= CODE_MAX_LENGTH:
        coupon = Coupon.objects.select_related("seller").filter(code=normalized).first()
    if coupon is None:
        raise CouponInvalid("unknown", "We don't know this coupon code. Check it for typos.")
    return coupon


# --- the interface orders uses ------------------------------------------------------------------------


def coupon_quote(
    *, code: str, user_id: int | None, subtotal_by_seller: dict[int, Decimal], currency: str, now=None
) -> CouponQuote:
    """What the coupon would take off these subtotals, without reserving a use.

    Raises CouponInvalid. The limits are checked too (for the user, when given), but only
    ``coupon_redeem`` holds a use: a quote that passes may still find the coupon exhausted. The
    buyer's own reserved uses (an open checkout about to be replaced) do not count here.
    """
    subtotals = _clean_subtotals(subtotal_by_seller, currency)
    now = now or timezone.now()
    coupon = _find(code)
    _check_dates(coupon, now)
    _check_limits(coupon, user_id=user_id, for_redeem=False)
    return _compute(coupon, subtotals, currency)


def coupon_redeem(
    *,
    code: str,
    user_id: int | None,
    reference: str,
    subtotal_by_seller: dict[int, Decimal],
    currency: str,
    now=None,
) -> CouponQuote:
    """Validate the coupon and reserve one use of it for the checkout ``reference``, atomically.

    Idempotent per reference: redeeming the same code again returns the first quote and takes no
    second use. A checkout holds one coupon: redeeming another code for the same reference reserves
    the new one and releases the old one in one transaction (if the new one is refused, the old one
    stays). Raises CouponInvalid ("exhausted", "already_used", ...). Guests (``user_id`` None) cannot
    use a coupon with a per-customer limit.

    Holds the coupon's row lock until the caller's transaction ends: call it inside the checkout's
    transaction, after the stock reservation, so that both are kept or neither.
    """
    reference = _clean_reference(reference)
    subtotals = _clean_subtotals(subtotal_by_seller, currency)
    now = now or timezone.now()
    for attempt in range(_LOCK_RETRIES):
        try:
            with transaction.atomic():
                return _redeem_locked(
                    code=code, user_id=user_id, reference=reference, subtotals=subtotals, currency=currency, now=now
                )
        except (_CouponMoved, IntegrityError):
            # the same reference redeemed concurrently (a double-submitted checkout): the winner's
            # redemption is there on the next attempt
            if attempt == _LOCK_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _redeem_locked(
    *, code: str, user_id: int | None, reference: str, subtotals: dict[int, Decimal], currency: str, now
) -> CouponQuote:
    coupon = _find(code)
    held = CouponRedemption.objects.filter(reference=reference, status__in=ACTIVE).first()
    # Lock every coupon this call changes, in id order, so two calls never wait on each other crosswise.
    lock_ids = sorted({coupon.pk} | ({held.coupon_id} if held else set()))
    locked = {c.pk: c for c in Coupon.objects.select_for_update().filter(pk__in=lock_ids).order_by("pk")}
    if coupon.pk not in locked:  # deleted meanwhile
        raise CouponInvalid("unknown", "We don't know this coupon code. Check it for typos.")
    seller = coupon.seller
    coupon = locked[coupon.pk]  # fresh uses and limits, read under the lock
    coupon.seller = seller
    current = CouponRedemption.objects.filter(reference=reference, status__in=ACTIVE).first()
    if (current.pk if current else None) != (held.pk if held else None):
        raise _CouponMoved

    if current is not None and current.coupon_id == coupon.pk:
        return _stored_quote(current, coupon)
    if current is not None and current.status == CouponRedemption.Status.USED:
        raise CouponInvalid("already_used", "This order has already used another coupon.")

    _check_dates(coupon, now)
    _check_limits(coupon, user_id=user_id, for_redeem=True)
    quote = _compute(coupon, subtotals, currency)

    if current is not None:  # the checkout swaps its coupon: the old use goes back
        _release(current)
    CouponRedemption.objects.create(
        coupon=coupon,
        user_id=user_id,
        reference=reference,
        status=CouponRedemption.Status.RESERVED,
        quote={
            "discount_by_seller": {str(k): str(v) for k, v in quote.discount_by_seller.items()},
            "free_shipping_sellers": sorted(quote.free_shipping_sellers),
        },
        discount_total=quote.discount_total,
        currency=currency,
    )
    Coupon.objects.filter(pk=coupon.pk).update(uses=F("uses") + 1)
    logger.info("coupon %s reserved for %s (user %s)", coupon.code, reference, user_id)
    return quote


def _stored_quote(redemption: CouponRedemption, coupon: Coupon) -> CouponQuote:
    stored = redemption.quote
    return CouponQuote(
        coupon_id=coupon.pk,
        code=coupon.code,
        discount_by_seller={int(k): Decimal(v) for k, v in stored.get("discount_by_seller", {}).items()},
        free_shipping_sellers=frozenset(stored.get("free_shipping_sellers", [])),
    )


def _release(redemption: CouponRedemption) -> None:
    """Give a reserved use back. Call while holding the lock on the redemption's coupon."""
    released = CouponRedemption.objects.filter(pk=redemption.pk, status=CouponRedemption.Status.RESERVED).update(
        status=CouponRedemption.Status.RELEASED, updated_at=timezone.now()
    )
    if released:
        Coupon.objects.filter(pk=redemption.coupon_id).update(uses=F("uses") - 1)
        logger.info("coupon %s released by %s", redemption.coupon_id, redemption.reference)


def coupon_release(*, reference: str) -> None:
    """The checkout ``reference`` was abandoned, expired or failed: its reserved use goes back.

    Idempotent; does nothing when the checkout holds no reserved use (none, already released, or
    used: a paid order keeps its use).
    """
    redemption = CouponRedemption.objects.filter(reference=reference, status=CouponRedemption.Status.RESERVED).first()
    if redemption is None:
        return
    with transaction.atomic():
        Coupon.objects.select_for_update().filter(pk=redemption.coupon_id).first()
        _release(redemption)


def coupon_consume(*, reference: str) -> None:
    """The order of checkout ``reference`` is paid: its reserved use becomes used. Idempotent.

    Does nothing when the checkout holds no reserved use. A use released before the payment (the
    checkout lapsed) is not taken back here: a checkout revived after that redeems again.
    """
    updated = CouponRedemption.objects.filter(reference=reference, status=CouponRedemption.Status.RESERVED).update(
        status=CouponRedemption.Status.USED, updated_at=timezone.now()
    )
    if updated:
        logger.info("coupon use of %s consumed", reference)


# --- demo data -------------------------------------------------------------------------------------------

DEMO_COUPONS = [
    {
        "code": "WELCOME10",
        "description": "Demo: 10% off everything, once per customer.",
        "kind": Coupon.Kind.PERCENT,
        "value": Decimal("10.00"),
        "max_uses_per_customer": 1,
    },
    {
        "code": "FREESHIP",
        "description": "Demo: free shipping on orders over 30.00 EUR.",
        "kind": Coupon.Kind.FREE_SHIPPING,
        "value": Decimal("0.00"),
        "min_subtotal": Decimal("30.00"),
    },
    {
        "code": "SAVE5",
        "description": "Demo: 5.00 EUR off orders over 25.00 EUR.",
        "kind": Coupon.Kind.FIXED,
        "value": Decimal("5.00"),
        "min_subtotal": Decimal("25.00"),
    },
]


def demo_coupons_ensure(*, currency: str = "EUR") -> list[Coupon]:
    """The demo data's platform-wide coupons (DEMO_COUPONS). Idempotent: an existing code is left as
    staff may have changed it."""
    coupons = []
    starts_at = timezone.now() - timedelta(days=1)
    for spec in DEMO_COUPONS:
        defaults = {k: v for k, v in spec.items() if k != "code"}
        coupon, created = Coupon.objects.get_or_create(
            code=spec["code"], defaults={**defaults, "currency": currency, "starts_at": starts_at}
        )
        if created:
            logger.info("demo coupon %s created", coupon.code)
        coupons.append(coupon)
    return coupons
