"""Reading carts: whose cart a request is about, the cart with current prices, the header's count.

A cart line shows the price snapshot taken when it was added (``unit_price``), the variant's price now
(``current_price``) and ``price_changed``; the subtotal is at current prices, the ones checkout will
charge (checkout re-validates prices and availability, DESIGN.md). Lines whose product buyers can no
longer see (archived, seller suspended) or whose variant was deactivated or deleted are dropped from
the cart when it is read, and reported once in ``Cart.removed``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.signing import BadSignature
from django.db.models import Exists, OuterRef
from django.http import HttpRequest

from cart import durable, store
from cart.store import CartOwner, CartUnavailable
from catalog.models import Variant
from catalog.selectors import listed_products
from shop.core.money import DEFAULT_CURRENCY

__all__ = ["CartOwner", "CartUnavailable"]

logger = logging.getLogger(__name__)

GUEST_COOKIE = "cart_guest"
GUEST_COOKIE_SALT = "cart.guest"


@dataclass(frozen=True)
class CartLine:
    sku: str
    title: str
    slug: str
    quantity: int
    unit_price: Decimal  # the snapshot: the price when the buyer added it
    current_price: Decimal
    currency: str
    added_at: str

    @property
    def price_changed(self) -> bool:
        return self.unit_price != self.current_price

    @property
    def line_total(self) -> Decimal:
        return self.current_price * self.quantity


@dataclass(frozen=True)
class RemovedLine:
    """A line dropped because its product is no longer sold."""

    sku: str
    title: str


@dataclass(frozen=True)
class Cart:
    lines: list[CartLine] = field(default_factory=list)
    removed: list[RemovedLine] = field(default_factory=list)
    currency: str = DEFAULT_CURRENCY
    # True when Redis is down and this is the durable copy from PostgreSQL: it can be read, not changed.
    read_only: bool = False

    @property
    def subtotal(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0.00"))

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def price_changes(self) -> list[CartLine]:
        return [line for line in self.lines if line.price_changed]


# --- whose cart ----------------------------------------------------------------------------------


def guest_id_from_request(request: HttpRequest) -> str | None:
    """The guest cart id of the request's signed cookie; None when there is none, or it was tampered with."""
    try:
        value = request.get_signed_cookie(GUEST_COOKIE, default=None, salt=GUEST_COOKIE_SALT)
    except BadSignature:
        return None
    if not value:
        return None
    try:
        return uuid.UUID(value).hex
    except ValueError:
        return None


def cart_owner_for_request(request: HttpRequest) -> CartOwner | None:
    """The signed-in user's cart, else the guest cart of the cookie; None for a guest without one yet.
    (A signed-in user's guest cookie is ignored: its cart was merged at sign-in.)"""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return CartOwner(user=user)
    guest_id = guest_id_from_request(request)
    return CartOwner(guest_id=guest_id) if guest_id else None


# --- the cart ------------------------------------------------------------------------------------


def buyable_variants(*, skus: Iterable[str]) -> dict[str, Variant]:
    """The variants with these SKUs that can be bought: active, of a product buyers see (listed).
    One query, with the product."""
    skus = set(skus)
    if not skus:
        return {}
    variants = Variant.objects.filter(
        sku__in=skus, is_active=True, product_id__in=listed_products().values("id")
    ).select_related("product")
    return {variant.sku: variant for variant in variants}


def _build(lines: dict[str, dict], *, read_only: bool) -> tuple[Cart, list[str]]:
    """The cart of these stored lines at current prices, and the SKUs no longer sold."""
    skus = set(lines)
    variants = {
        variant.sku: variant
        for variant in Variant.objects.filter(sku__in=skus)
        .select_related("product")
        .annotate(listed=Exists(listed_products().filter(pk=OuterRef("product_id"))))
    }
    cart_lines: list[CartLine] = []
    removed: list[RemovedLine] = []
    gone: list[str] = []
    for sku, stored in sorted(lines.items(), key=lambda item: (str(item[1].get("added_at", "")), item[0])):
        variant = variants.get(sku)
        if variant is None or not variant.is_active or not variant.listed:
            gone.append(sku)
            removed.append(RemovedLine(sku=sku, title=variant.product.title if variant else sku))
            continue
        try:
            unit_price = Decimal(stored["unit_price"])
        except (InvalidOperation, KeyError, TypeError):
            unit_price = variant.price
        cart_lines.append(
            CartLine(
                sku=sku,
                title=variant.product.title,
                slug=variant.product.slug,
                quantity=int(stored["quantity"]),
                unit_price=unit_price,
                current_price=variant.price,
                currency=variant.currency,
                added_at=str(stored.get("added_at", "")),
            )
        )
    currency = cart_lines[0].currency if cart_lines else DEFAULT_CURRENCY
    return Cart(lines=cart_lines, removed=removed, currency=currency, read_only=read_only), gone


def cart_get(*, owner: CartOwner | None) -> Cart:
    """The cart at current prices. A user's cart that Redis lost is restored from its durable copy.

    Lines no longer sold are removed from the stored cart as a side effect (and from the durable
    copy), and reported in ``removed`` this once. Without Redis: a user's durable copy is returned
    with ``read_only=True``; any other cart raises CartUnavailable.
    """
    if owner is None:
        return Cart()
    try:
        lines = durable.restore_if_missing(owner)
    except CartUnavailable:
        saved = durable.saved_lines(owner.user) if owner.user is not None else {}
        if not saved:
            raise
        cart, _ = _build(saved, read_only=True)
        return cart
    if not lines:
        return Cart()
    cart, gone = _build(lines, read_only=False)
    if gone:
        store.remove_lines(owner.key, gone)
        durable.write_through(owner, {sku: line for sku, line in lines.items() if sku not in gone})
    return cart


def cart_line_count(*, owner: CartOwner | None) -> int:
    """Lines in the cart: one Redis round trip (HLEN), no database. Raises CartUnavailable.
    (A durable cart Redis lost counts 0 here until the cart is next read, which restores it.)"""
    if owner is None:
        return 0
    return store.count_lines(owner.key)


def cart_count_for_request(request: HttpRequest | None) -> int:
    """The header's cart count: never raises, so a cart outage cannot break a page (0 then)."""
    if request is None:
        return 0
    try:
        return cart_line_count(owner=cart_owner_for_request(request))
    except CartUnavailable:
        return 0


def cart_ttl(*, owner: CartOwner) -> int:
    """Seconds until the stored cart expires (-2: no cart). Raises CartUnavailable."""
    return store.ttl(owner.key)
