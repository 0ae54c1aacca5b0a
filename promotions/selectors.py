"""Read queries of the promotions app."""

from __future__ import annotations

from .models import Coupon, CouponRedemption
from .services import coupon_code_normalize


def coupon_get(*, code: str) -> Coupon | None:
    """The coupon with this code, however it is typed ("welcome10 " finds WELCOME10), or None."""
    normalized = coupon_code_normalize(code)
    if not normalized:
        return None
    return Coupon.objects.select_related("seller").filter(code=normalized).first()


def coupon_uses(*, coupon_id: int) -> int:
    """The uses that count against the coupon's limit: reserved by open checkouts, or used by paid orders."""
    return CouponRedemption.objects.filter(coupon_id=coupon_id, status__in=CouponRedemption.ACTIVE_STATUSES).count()


def coupon_redemption_for(*, reference: str) -> CouponRedemption | None:
    """The coupon use a checkout holds (reserved or used), or None."""
    return (
        CouponRedemption.objects.select_related("coupon")
        .filter(reference=reference, status__in=CouponRedemption.ACTIVE_STATUSES)
        .first()
    )
