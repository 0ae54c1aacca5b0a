"""Read queries of the sellers app."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet, Sum

from shop.core.money import DEFAULT_CURRENCY

from .models import LedgerEntry, Payout, Seller

# The platform's commission when neither the seller nor the category carries a rate. The setting
# PLATFORM_COMMISSION_RATE (from the environment) is authoritative; this is its documented default.
DEFAULT_PLATFORM_COMMISSION_RATE = Decimal("0.10")


def seller_for_user(*, user) -> Seller | None:
    """The user's seller (whatever its status), or None for a user who never applied."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.seller  # cached on the user object after the first access
    except Seller.DoesNotExist:
        return None


def seller_get_by_slug(*, slug: str) -> Seller | None:
    return Seller.objects.filter(slug=slug).first()


def platform_commission_rate() -> Decimal:
    return Decimal(str(getattr(settings, "PLATFORM_COMMISSION_RATE", DEFAULT_PLATFORM_COMMISSION_RATE)))


def commission_rate_for(*, seller: Seller, category) -> Decimal:
    """The commission rate of a sale (DESIGN.md): the seller's override, else the category's rate,
    else the platform default. Orders snapshot the result on each line at purchase.

    A category without a rate of its own takes its nearest ancestor's, so a rate set on
    "Electronics" covers every phone and laptop below it (one query for the ancestors). ``category``
    is a ``catalog.Category`` or None, used through its model's manager and ``ancestor_paths``, so
    that sellers need not import the catalog above it.
    """
    if seller.commission_rate is not None:
        return seller.commission_rate
    if category is not None:
        if category.commission_rate is not None:
            return category.commission_rate
        ancestor_paths = category.ancestor_paths
        if ancestor_paths:
            rates = dict(
                type(category)
                ._default_manager.filter(path__in=ancestor_paths, commission_rate__isnull=False)
                .values_list("path", "commission_rate")
            )
            for path in reversed(ancestor_paths):  # nearest ancestor first
                if path in rates:
                    return rates[path]
    return platform_commission_rate()


# --- commission ledger and payouts ----------------------------------------------------------------


def seller_balance(*, seller_id: int, currency: str = DEFAULT_CURRENCY) -> Decimal:
    """What the platform owes the seller: sales less commission and refunds, less what was paid out.
    Money on its way in a pending payout is still owed. Negative after a refund of paid-out sales."""
    total = LedgerEntry.objects.filter(seller_id=seller_id, currency=currency).aggregate(total=Sum("amount"))["total"]
    return total if total is not None else Decimal("0.00")


def ledger_entries(*, seller_id: int) -> QuerySet[LedgerEntry]:
    """The seller's ledger, newest first."""
    return LedgerEntry.objects.filter(seller_id=seller_id).order_by("-created_at", "-id")


def payouts_for_seller(*, seller_id: int) -> QuerySet[Payout]:
    """The seller's payouts, newest first."""
    return Payout.objects.filter(seller_id=seller_id).order_by("-created_at", "-id")
