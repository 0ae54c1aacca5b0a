"""Pricing a checkout: per-seller packages with their discount, shipping and tax, allocated to lines.

Pure arithmetic on Decimals (no queries): the services gather the lines, the coupon's quote and the
tax rates, and store what this returns. Each seller's discount and shipping are spread over its
lines in proportion to their subtotals with ``Money.allocate`` (the cents lost to rounding go to the
largest lines), and tax is computed per line on its net amount (orders/tax.py), so the lines add up
exactly to their package and the packages to the checkout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from orders.models import ShippingMethod
from orders.shipping import package_shipping
from shop.core.money import Money, to_decimal

ZERO = Decimal("0.00")


@dataclass
class LineInput:
    sku: str
    seller_id: int
    quantity: int
    unit_price: Decimal
    weight_grams: int  # of one unit
    tax_rate: Decimal


@dataclass
class LineAmounts:
    subtotal: Decimal
    discount: Decimal = ZERO
    shipping: Decimal = ZERO
    tax: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.shipping + self.tax


@dataclass
class PackageAmounts:
    seller_id: int
    weight_grams: int = 0
    subtotal: Decimal = ZERO
    discount: Decimal = ZERO
    shipping: Decimal = ZERO
    tax: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.shipping + self.tax


@dataclass
class Pricing:
    currency: str
    lines: list[LineAmounts] = field(default_factory=list)  # in the order of the inputs
    packages: dict[int, PackageAmounts] = field(default_factory=dict)  # by seller id, in first-seen order

    def _sum(self, name: str) -> Decimal:
        return sum((getattr(package, name) for package in self.packages.values()), ZERO)

    @property
    def subtotal(self) -> Decimal:
        return self._sum("subtotal")

    @property
    def discount(self) -> Decimal:
        return self._sum("discount")

    @property
    def shipping(self) -> Decimal:
        return self._sum("shipping")

    @property
    def tax(self) -> Decimal:
        return self._sum("tax")

    @property
    def total(self) -> Decimal:
        return self._sum("total")


def price(
    *,
    lines: list[LineInput],
    currency: str,
    method: ShippingMethod,
    discount_by_seller: dict[int, Decimal] | None = None,
    free_shipping_sellers: frozenset[int] | set[int] = frozenset(),
) -> Pricing:
    discount_by_seller = discount_by_seller or {}
    pricing = Pricing(
        currency=currency, lines=[LineAmounts(subtotal=to_decimal(line.unit_price * line.quantity)) for line in lines]
    )
    by_seller: dict[int, list[int]] = {}
    for index, line in enumerate(lines):
        by_seller.setdefault(line.seller_id, []).append(index)
    for seller_id, indexes in by_seller.items():
        package = PackageAmounts(seller_id=seller_id)
        package.subtotal = sum((pricing.lines[i].subtotal for i in indexes), ZERO)
        package.weight_grams = sum(lines[i].weight_grams * lines[i].quantity for i in indexes)
        weights = [pricing.lines[i].subtotal for i in indexes]
        package.discount = min(to_decimal(discount_by_seller.get(seller_id, ZERO)), package.subtotal)
        for i, share in zip(indexes, Money(package.discount, currency).allocate(weights), strict=True):
            pricing.lines[i].discount = share.amount
        package.shipping = package_shipping(
            method=method,
            weight_grams=package.weight_grams,
            value=package.subtotal - package.discount,
            free_shipping=seller_id in free_shipping_sellers,
        )
        for i, share in zip(indexes, Money(package.shipping, currency).allocate(weights), strict=True):
            pricing.lines[i].shipping = share.amount
        for i in indexes:
            amounts = pricing.lines[i]
            amounts.tax = to_decimal(lines[i].tax_rate * (amounts.subtotal - amounts.discount + amounts.shipping))
        package.tax = sum((pricing.lines[i].tax for i in indexes), ZERO)
        pricing.packages[seller_id] = package
    return pricing


def share_of(total: Decimal, *, part: int, whole: int) -> Decimal:
    """The stored amount of ``part`` of ``whole`` units of a line worth ``total``. Used
    cumulatively (units already refunded plus these, minus the units already refunded), so refunding
    a line unit by unit adds up exactly to its total."""
    if whole <= 0:
        return ZERO
    return to_decimal(total * part / whole)
