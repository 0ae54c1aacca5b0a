"""Read queries of the inventory app."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.cache import cache
from django.db.models import F

from inventory import token_bucket
from inventory.models import Reservation, Stock
from inventory.services import FlashSaleUnavailable, availability_key


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


def displayed_availability_for_variants(
    *, variant_ids: Iterable[int], prefetched: Mapping[str, object] | None = None
) -> dict[int, int]:
    """Units available now per variant id, for pages that show stock (the buy box, the product API):
    one Redis round trip, the database only for variants the cache does not hold.

    The cache is written through: every stock change stores its variant's new figure once its
    transaction commits (inventory.services), and a figure read from the database here is stored
    only if no writer got there first (``add``), so a slow reader cannot overwrite a newer count.
    Entries still expire (INVENTORY_AVAILABILITY_CACHE_TTL) to bound the damage of a lost write.
    What is shown is never the authority: adding to the cart and reserving read the locked rows.
    """
    ids = set(variant_ids)
    if not ids:
        return {}
    keys = {variant_id: availability_key(variant_id) for variant_id in ids}
    # ``prefetched``: what a caller's own round trip read for these keys (``availability_key``).
    found = prefetched if prefetched is not None else cache.get_many(keys.values())  # an outage: all misses
    available = {variant_id: found[key] for variant_id, key in keys.items() if key in found}
    missing = ids - available.keys()
    if missing:
        from_db = availability_for_variants(variant_ids=missing)
        timeout = settings.INVENTORY_AVAILABILITY_CACHE_TTL
        for variant_id, units in from_db.items():
            cache.add(keys[variant_id], units, timeout)
        available.update(from_db)
    return available


def stock_for_variants(*, variant_ids: Iterable[int]) -> dict[int, Stock]:
    """The stock records of these variants by variant id, in one query (variants without one are left out)."""
    ids = set(variant_ids)
    if not ids:
        return {}
    return {stock.variant_id: stock for stock in Stock.objects.filter(variant_id__in=ids)}


def stock_get(*, sku: str) -> Stock | None:
    return Stock.objects.filter(sku=sku).first()


def reservation_get(*, reservation_id: int) -> Reservation | None:
    return Reservation.objects.filter(pk=reservation_id).prefetch_related("lines").first()


def reservation_for_key(*, key: str) -> Reservation | None:
    """The reservation made with this idempotency key (for example ``"checkout:<id>"``), if any."""
    return Reservation.objects.filter(key=key).prefetch_related("lines").first()


def flash_sale_skus() -> list[str]:
    """The SKUs in flash-sale mode."""
    return list(Stock.objects.filter(flash_sale=True).order_by("sku").values_list("sku", flat=True))


def flash_sale_tokens(*, sku: str) -> int | None:
    """Tokens left in a flash-sale SKU's bucket (None without a bucket). Raises
    FlashSaleUnavailable when Redis cannot be reached."""
    try:
        tokens = token_bucket.tokens(sku)
    except token_bucket.BucketUnavailable as exc:
        raise FlashSaleUnavailable(sku) from exc
    return None if tokens == token_bucket.NO_BUCKET else tokens
