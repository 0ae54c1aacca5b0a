"""Durable carts: the write-through copy in PostgreSQL. Private to the cart app.

A user's cart is durable when the user is a business buyer (``User.is_business``) or when the cart
is worth at least ``CART_DURABLE_MIN_VALUE`` at its snapshot prices (the prices the buyer saw, so
deciding needs no query). After every change of a user's cart its lines are copied to
``DurableCart``; a cart that no longer qualifies (or is empty) has its copy removed, so an old copy
is never restored over a cart the buyer emptied.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from cart import store
from cart.models import DurableCart

DURABLE_MIN_VALUE = Decimal("500.00")  # a cart this large is worth a database row; CART_DURABLE_MIN_VALUE overrides


def min_value() -> Decimal:
    return Decimal(str(getattr(settings, "CART_DURABLE_MIN_VALUE", DURABLE_MIN_VALUE)))


def snapshot_value(lines: Mapping[str, Mapping[str, Any]]) -> Decimal:
    total = Decimal("0")
    for line in lines.values():
        try:
            total += Decimal(line["unit_price"]) * int(line["quantity"])
        except (InvalidOperation, KeyError, TypeError, ValueError):
            continue
    return total


def qualifies(user, lines: Mapping[str, Mapping[str, Any]]) -> bool:
    if user is None or not lines:
        return False
    return bool(getattr(user, "is_business", False)) or snapshot_value(lines) >= min_value()


def write_through(owner: store.CartOwner, lines: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Copy a user's cart (as Redis holds it now, unless ``lines`` is given) to PostgreSQL, or drop
    the copy when the cart does not qualify. Guests' carts are never durable (no user to key them)."""
    if owner.user is None:
        return
    if lines is None:
        lines = store.read(owner.key)
    if qualifies(owner.user, lines):
        DurableCart.objects.update_or_create(user=owner.user, defaults={"lines": dict(lines)})
    else:
        DurableCart.objects.filter(user=owner.user).delete()


def saved_lines(user) -> dict[str, dict]:
    """The durable copy of a user's cart ({} when there is none), as ``store.decode_lines`` reads them."""
    row = DurableCart.objects.filter(user=user).only("lines").first()
    if row is None or not isinstance(row.lines, dict):
        return {}
    return store.decode_lines({sku: store.encode_line(line) for sku, line in row.lines.items()})


def restore_if_missing(owner: store.CartOwner) -> dict[str, dict]:
    """The user's cart from Redis; when Redis has none (lost, flushed, expired) and PostgreSQL keeps a
    durable copy, that copy is put back into Redis first. Raises CartUnavailable without Redis."""
    lines = store.read(owner.key)
    if lines or owner.user is None:
        return lines
    saved = saved_lines(owner.user)
    if not saved:
        return lines
    store.restore(owner.key, saved)
    return store.read(owner.key)  # what Redis holds now: ours, or a change that came in meanwhile
