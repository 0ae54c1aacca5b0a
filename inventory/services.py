"""Commands that change stock. A minimal stock record for now: the seller's count on hand and every
change to it; reservations for checkout come with the inventory work.

Stock is changed only inside a transaction that holds ``SELECT ... FOR UPDATE`` on its row
(DESIGN.md). ``on_hand`` below ``reserved`` is refused with ``StockConflict`` (the API answers 409):
first by the check here, then by the database's CHECK constraint, whose violation is converted to the
same exception, so no code path answers 500 for it.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog.models import Variant
from inventory.models import Stock, StockMovement
from shop.core.events import publish

logger = logging.getLogger(__name__)

# The event published whenever a SKU's stock changes (payload: sku, variant_id, on_hand, reserved,
# available). It belongs in inventory/events.py once that module exists.
STOCK_CHANGED = "inventory.stock_changed"
MAX_ON_HAND = 1_000_000  # units of one SKU; more is a typo (an extra zero or two), not a warehouse
REASON_MAX_LENGTH = 200  # StockMovement.reason
DEFAULT_SET_REASON = "set by seller"


class StockConflict(Exception):
    """The change would leave fewer units on hand than are reserved for checkouts (or fewer than none)."""


class StockNotFound(LookupError):
    """No variant has this SKU."""


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError({"reason": ["Say why the stock changes (for example: recount, damaged, delivery)."]})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": [f"A reason has at most {REASON_MAX_LENGTH} characters."]})
    return reason


def _conflict(stock: Stock, on_hand: int) -> StockConflict:
    if stock.reserved:
        return StockConflict(
            f"{stock.sku}: {stock.reserved} of the units on hand are reserved for checkouts, "
            f"so there cannot be fewer than {stock.reserved} on hand (asked for {on_hand})."
        )
    return StockConflict(f"{stock.sku}: there cannot be fewer than 0 units on hand (asked for {on_hand}).")


def _write(stock: Stock, *, on_hand: int, reason: str, actor, created: bool) -> Stock:
    """Store the new count with its movement and event. Call holding the row's lock."""
    if on_hand < stock.reserved:
        raise _conflict(stock, on_hand)
    delta = on_hand - stock.on_hand
    if delta == 0 and not created:
        return stock
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives a refusal
            stock.on_hand = on_hand
            stock.save(update_fields=["on_hand", "updated_at"])
    except IntegrityError as exc:
        # The CHECK constraints are the second guard: only a bug or a write that bypassed the lock
        # gets here. Still a 409 for the client, never a 500.
        stock.refresh_from_db()
        logger.warning("inventory: the database refused on_hand=%s for %s: %s", on_hand, stock.sku, exc)
        raise _conflict(stock, on_hand) from exc
    StockMovement.objects.create(
        stock=stock,
        delta=delta,
        on_hand_after=on_hand,
        reason=reason,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    publish(
        STOCK_CHANGED,
        {
            "sku": stock.sku,
            "variant_id": stock.variant_id,
            "on_hand": stock.on_hand,
            "reserved": stock.reserved,
            "available": stock.available,
        },
    )
    return stock


def _clean_count(value, key: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_ON_HAND:
        raise ValidationError({key: [f"Enter a whole number from {minimum:,} to {MAX_ON_HAND:,}."]})
    return value


@transaction.atomic
def stock_set(*, variant: Variant, on_hand: int, actor=None, reason: str = DEFAULT_SET_REASON) -> Stock:
    """Set the units on hand of a variant (a recount, the initial stock), creating its stock record
    if it has none. Records a StockMovement and publishes ``inventory.stock_changed`` when the count
    changes. Raises StockConflict when ``on_hand`` is below the units reserved."""
    on_hand = _clean_count(on_hand, "on_hand", minimum=0)
    reason = _clean_reason(reason)
    # get_or_create with a locking queryset: the get takes the row lock; a concurrent create of the
    # same row makes the insert fail, and get_or_create then gets (and locks) the winner's row.
    stock, created = Stock.objects.select_for_update().get_or_create(variant=variant, defaults={"sku": variant.sku})
    return _write(stock, on_hand=on_hand, reason=reason, actor=actor, created=created)


@transaction.atomic
def stock_adjust(*, sku: str, delta: int, reason: str, actor=None) -> Stock:
    """Add ``delta`` units on hand (a delivery) or remove them (damage, loss), with a reason.

    Creates the stock record of a variant that has none. Raises StockNotFound for an unknown SKU and
    StockConflict when fewer units than are reserved would remain.
    """
    delta = _clean_count(delta, "delta", minimum=-MAX_ON_HAND)
    reason = _clean_reason(reason)
    stock = Stock.objects.select_for_update().filter(sku=sku).first()
    created = False
    if stock is None:
        variant = Variant.objects.filter(sku=sku).first()
        if variant is None:
            raise StockNotFound(f"No product variant has the SKU {sku!r}.")
        stock, created = Stock.objects.select_for_update().get_or_create(variant=variant, defaults={"sku": sku})
    on_hand = stock.on_hand + delta
    if on_hand > MAX_ON_HAND:
        raise ValidationError({"delta": [f"There can be at most {MAX_ON_HAND:,} units on hand."]})
    return _write(stock, on_hand=on_hand, reason=reason, actor=actor, created=created)
