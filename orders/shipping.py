"""Shipping prices: each seller ships its own lines as one package, priced by the chosen method.

``flat``: the method's ``base_price`` per package. ``weight``: ``base_price`` plus ``price_per_kg``
for each kilogram or part of one (carriers bill started kilograms), from the variants'
``weight_grams``. A package whose value after discount reaches the method's ``free_over``, or
whose seller a free-shipping coupon covers, ships free. Prices are net (orders/tax.py).
"""

from __future__ import annotations

import math
from decimal import Decimal

from orders.models import ShippingMethod
from shop.core.money import to_decimal

GRAMS_PER_KG = 1000


def package_shipping(
    *, method: ShippingMethod, weight_grams: int, value: Decimal, free_shipping: bool = False
) -> Decimal:
    """The shipping price of one seller's package of ``weight_grams`` worth ``value`` (after discount)."""
    if free_shipping:
        return Decimal("0.00")
    if method.free_over is not None and value >= method.free_over:
        return Decimal("0.00")
    price = method.base_price
    if method.kind == ShippingMethod.Kind.WEIGHT and weight_grams > 0:
        kilograms = math.ceil(weight_grams / GRAMS_PER_KG)
        price += method.price_per_kg * kilograms
    return to_decimal(price)
