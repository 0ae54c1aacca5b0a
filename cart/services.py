"""Commands that change carts: add, set and remove lines, clear, and merge a guest cart at sign-in.

A cart is a Redis hash (cart.store); a change of one line is one Lua script that checks the limits
and writes the line and the TTL atomically. Limits (settings, with these defaults):
``CART_MAX_LINE_QUANTITY`` units of one SKU, ``CART_MAX_LINES`` SKUs per cart. Adding checks that the
SKU can be bought (an active variant of a listed product) and that the units are available now
(inventory); the stock is not held: checkout reserves it and checks again (DESIGN.md).

Snapshot prices: adding takes the variant's current price as the line's ``unit_price`` (the buyer
just saw it on the product page); changing a quantity keeps the snapshot, so the cart goes on
telling the buyer when the price moved since they chose the item.

Every change of a signed-in user's cart is written through to PostgreSQL when the cart is durable
(cart.durable). Without Redis every command raises ``CartUnavailable``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from cart import durable, store
from cart.selectors import buyable_variants
from cart.store import CartOwner, CartUnavailable
from inventory.selectors import availability_for_variants
from inventory.services import OutOfStock

__all__ = [
    "CartLimitExceeded",
    "CartLineNotFound",
    "CartOwner",
    "CartUnavailable",
    "MergeResult",
    "OutOfStock",
    "cart_clear",
    "cart_line_add",
    "cart_line_remove",
    "cart_line_set",
    "cart_merge",
]

logger = logging.getLogger(__name__)

MAX_LINE_QUANTITY = 20  # units of one SKU per cart: more is a reseller's order, not a basket
MAX_LINES = 50  # SKUs per cart: bounds the cart page, the merge and checkout's row locks
SKU_MAX_LENGTH = 64  # catalog.Variant.sku


class CartLimitExceeded(Exception):
    """The change would pass a cart limit (units per line, lines per cart); the API answers 409."""


class CartLineNotFound(LookupError):
    """The cart has no line with this SKU."""


def max_line_quantity() -> int:
    return int(getattr(settings, "CART_MAX_LINE_QUANTITY", MAX_LINE_QUANTITY))


def max_lines() -> int:
    return int(getattr(settings, "CART_MAX_LINES", MAX_LINES))


def _clean_sku(sku) -> str:
    sku = sku.strip() if isinstance(sku, str) else ""
    if not sku or len(sku) > SKU_MAX_LENGTH:
        raise ValidationError({"sku": [f"A SKU has 1 to {SKU_MAX_LENGTH} characters."]})
    return sku


def _clean_quantity(quantity, *, minimum: int) -> int:
    most = max_line_quantity()
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not minimum <= quantity <= most:
        raise ValidationError({"quantity": [f"Enter a whole number from {minimum} to {most}."]})
    return quantity


def _refusal(status: int, *, sku: str, held: int) -> Exception:
    if status == -1:
        return OutOfStock([sku], f"Not enough of {sku} is available to have that many in your cart.")
    if status == -2:
        return CartLimitExceeded(f"Your cart is full: it holds at most {max_lines()} different items.")
    if status == -3:
        return CartLimitExceeded(
            f"You can have at most {max_line_quantity()} of one item in your cart (you have {held} of {sku})."
        )
    if status == -4:
        return CartLineNotFound(f"Your cart has no item {sku}.")
    if status == -5:
        return ValidationError({"sku": ["This item is priced in another currency than the rest of your cart."]})
    return RuntimeError(f"unexpected cart script status {status}")


def cart_line_add(*, owner: CartOwner, sku: str, quantity: int) -> int:
    """Add ``quantity`` units of a SKU (to the line it has, if any); returns the line's quantity.

    Raises ValidationError (an unknown or unbuyable SKU, a quantity outside 1..the per-line maximum),
    OutOfStock (the line would hold more than is available), CartLimitExceeded, CartUnavailable.
    """
    sku = _clean_sku(sku)
    quantity = _clean_quantity(quantity, minimum=1)
    variant = buyable_variants(skus=[sku]).get(sku)
    if variant is None:
        raise ValidationError({"sku": [f"No product on sale has the SKU {sku!r}."]})
    available = availability_for_variants(variant_ids=[variant.pk])[variant.pk]
    status, new_quantity = store.change_line(
        owner.key,
        sku=sku,
        mode="add",
        quantity=quantity,
        max_quantity=max_line_quantity(),
        max_lines=max_lines(),
        available=available,
        fields={"unit_price": str(variant.price), "currency": variant.currency},
        added_at=timezone.now().isoformat(),
    )
    if status != 1:
        raise _refusal(status, sku=sku, held=new_quantity)
    durable.write_through(owner)
    return new_quantity


def cart_line_set(*, owner: CartOwner, sku: str, quantity: int) -> int:
    """Set the quantity of a line the cart has; 0 removes it. Returns the new quantity. More units
    than before must be available (a product no longer sold can only be lowered or removed).

    Raises ValidationError, CartLineNotFound, OutOfStock, CartLimitExceeded, CartUnavailable.
    """
    sku = _clean_sku(sku)
    quantity = _clean_quantity(quantity, minimum=0)
    variant = buyable_variants(skus=[sku]).get(sku) if quantity else None
    available = availability_for_variants(variant_ids=[variant.pk])[variant.pk] if variant else 0
    status, new_quantity = store.change_line(
        owner.key,
        sku=sku,
        mode="set",
        quantity=quantity,
        max_quantity=max_line_quantity(),
        max_lines=max_lines(),
        available=available,
        fields={},
        added_at="",
    )
    if status == 0:  # nothing to remove
        raise CartLineNotFound(f"Your cart has no item {sku}.")
    if status != 1:
        raise _refusal(status, sku=sku, held=new_quantity)
    durable.write_through(owner)
    return new_quantity


def cart_line_remove(*, owner: CartOwner, sku: str) -> None:
    """Remove a line. Raises CartLineNotFound when the cart has none with this SKU, CartUnavailable."""
    cart_line_set(owner=owner, sku=sku, quantity=0)


def cart_clear(*, owner: CartOwner) -> None:
    """Empty the cart (after an order is placed), with its durable copy."""
    store.delete(owner.key)
    durable.write_through(owner, {})


@dataclass(frozen=True)
class MergeResult:
    merged: dict[str, int] = field(default_factory=dict)  # sku -> quantity of the user's line after the merge
    capped: list[str] = field(default_factory=list)  # SKUs whose sum was cut to the cap
    dropped: list[str] = field(default_factory=list)  # guest lines not taken (not sold, none available, cart full)


def cart_merge(*, guest_id: str, user) -> MergeResult:
    """Merge a guest's cart into the user's at sign-in, then delete the guest cart.

    The rule, line by line in the order the guest added them:
    - a SKU only in the guest cart joins the user's cart with the guest's quantity and snapshot
      price (what the guest saw), capped at the per-line maximum and at the units available now; it
      is dropped when none are available, when the product is no longer sold, or when the user's
      cart already has ``CART_MAX_LINES`` lines;
    - a SKU in both carts gets the sum of the two quantities, capped the same way, and keeps the
      user's snapshot price and time added; the cap never lowers the quantity the user already had
      (checkout checks availability again).
    Lines the guest cart does not have are left as they are.

    The user's cart is first restored from its durable copy if Redis lost it, so the merge adds to
    it rather than replacing it. Both carts are read and written in one optimistic transaction
    (WATCH/MULTI, retried if either changes meanwhile). Raises CartUnavailable without Redis.
    """
    guest = CartOwner(guest_id=guest_id)
    mine = CartOwner(user=user)
    guest_lines = store.read(guest.key)
    if not guest_lines:
        return MergeResult()
    durable.restore_if_missing(mine)
    variants = buyable_variants(skus=guest_lines)
    available = availability_for_variants(variant_ids=[variant.pk for variant in variants.values()])
    most = max_line_quantity()
    line_limit = max_lines()
    outcome: dict[str, MergeResult] = {}

    def merge(pipe) -> None:
        theirs = store.decode_lines(pipe.hgetall(guest.key))
        ours = store.decode_lines(pipe.hgetall(mine.key))
        merged: dict[str, dict] = {}
        capped: list[str] = []
        dropped: list[str] = []
        lines_after = len(ours)
        for sku, guest_line in sorted(theirs.items(), key=lambda item: (str(item[1].get("added_at", "")), item[0])):
            variant = variants.get(sku)
            cap = min(most, available.get(variant.pk, 0)) if variant else 0
            own_line = ours.get(sku)
            if own_line is not None:
                wanted = own_line["quantity"] + guest_line["quantity"]
                quantity = max(own_line["quantity"], min(wanted, cap))
                merged[sku] = {**own_line, "quantity": quantity}
            else:
                wanted = guest_line["quantity"]
                quantity = min(wanted, cap)
                if quantity < 1 or lines_after >= line_limit:
                    dropped.append(sku)
                    continue
                lines_after += 1
                merged[sku] = {**guest_line, "quantity": quantity}
            if quantity < wanted:
                capped.append(sku)
        pipe.multi()
        if merged:
            pipe.hset(mine.key, mapping={sku: store.encode_line(line) for sku, line in merged.items()})
            pipe.expire(mine.key, store.ttl_seconds())
        pipe.delete(guest.key)
        outcome["result"] = MergeResult(
            merged={sku: line["quantity"] for sku, line in merged.items()}, capped=capped, dropped=dropped
        )

    store.call(lambda client: client.transaction(merge, guest.key, mine.key))
    durable.write_through(mine)
    result = outcome["result"]
    logger.info(
        "cart: merged guest cart into user %s (%d lines, %d capped, %d dropped)",
        user.pk,
        len(result.merged),
        len(result.capped),
        len(result.dropped),
    )
    return result
