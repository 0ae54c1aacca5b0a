"""Read queries of the inventory app."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F

from inventory.models import Stock


def availability_for_variants(*, variant_ids: Iterable[int]) -> dict[int, int]:
    """Units that can be bought now (on hand minus reserved) per variant id, in one query. A variant
    without a stock record has 0."""
    ids = set(variant_ids)
    if not ids:
        return {}
    found = dict(
        Stock.objects.filter(variant_id__in=ids)
        .annotate(units_available=F("on_hand") - F("reserved"))
        .values_list("variant_id", "units_available")
    )
    return {variant_id: found.get(variant_id, 0) for variant_id in ids}


def stock_for_variants(*, variant_ids: Iterable[int]) -> dict[int, Stock]:
    """The stock records of these variants by variant id, in one query (variants without one are left out)."""
    ids = set(variant_ids)
    if not ids:
        return {}
    return {stock.variant_id: stock for stock in Stock.objects.filter(variant_id__in=ids)}


def stock_get(*, sku: str) -> Stock | None:
    return Stock.objects.filter(sku=sku).first()
