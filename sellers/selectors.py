"""Read queries of the sellers app."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from .models import Seller

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
