"""Shipping per seller package and rule-based tax (orders/shipping.py, orders/tax.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.tests.factories import CategoryFactory
from orders import pricing
from orders.models import ShippingMethod
from orders.shipping import package_shipping
from orders.tax import RuleBasedTax, tax_rates_for
from orders.tests.conftest import fill_cart, start
from orders.tests.factories import TaxRateFactory
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db

FLAT = ShippingMethod(kind="flat", base_price=Decimal("4.90"), free_over=Decimal("50.00"))
BY_WEIGHT = ShippingMethod(kind="weight", base_price=Decimal("9.90"), price_per_kg=Decimal("1.50"))


@pytest.mark.parametrize(
    ("method", "grams", "value", "free", "expected"),
    [
        (FLAT, 5000, Decimal("49.99"), False, "4.90"),
        (FLAT, 5000, Decimal("50.00"), False, "0.00"),  # free from 50.00 after discount
        (FLAT, 100, Decimal("10.00"), True, "0.00"),  # a free-shipping coupon
        (BY_WEIGHT, 0, Decimal("10.00"), False, "9.90"),
        (BY_WEIGHT, 1, Decimal("10.00"), False, "11.40"),  # a started kilogram counts
        (BY_WEIGHT, 1000, Decimal("10.00"), False, "11.40"),
        (BY_WEIGHT, 2500, Decimal("10.00"), False, "14.40"),
    ],
)
def test_package_shipping(method, grams, value, free, expected):
    assert package_shipping(method=method, weight_grams=grams, value=value, free_shipping=free) == Decimal(expected)


def test_the_most_specific_tax_rule_wins():
    books = CategoryFactory(slug="books")
    children = CategoryFactory(slug="children", parent=books)
    picture = CategoryFactory(slug="picture", parent=children)
    TaxRateFactory(country="DE", category=None, rate=Decimal("0.1900"))
    TaxRateFactory(country="DE", category=books, rate=Decimal("0.0700"))
    TaxRateFactory(country="DE", category=picture, rate=Decimal("0.0500"))
    TaxRateFactory(country="FR", category=None, rate=Decimal("0.2000"))

    rates = RuleBasedTax().rates_for(country="de", category_paths=[picture.path, children.path, "garden/tools"])

    assert rates == {
        "books/children/picture": Decimal("0.0500"),  # its own rule
        "books/children": Decimal("0.0700"),  # its ancestor's
        "garden/tools": Decimal("0.1900"),  # the country's default
    }
    assert tax_rates_for(country="US", category_paths=["books"]) == {"books": Decimal("0")}


def test_the_tax_calculator_is_a_setting(settings):
    settings.TAX_CALCULATOR = "orders.tests.test_pricing.FlatTenPercent"

    assert tax_rates_for(country="DE", category_paths=["a"]) == {"a": Decimal("0.10")}


class FlatTenPercent:
    """A stand-in tax service."""

    def rates_for(self, *, country, category_paths):
        return dict.fromkeys(category_paths, Decimal("0.10"))


def test_discount_shipping_and_tax_are_allocated_to_lines_to_the_cent():
    lines = [
        pricing.LineInput(
            sku="A", seller_id=1, quantity=3, unit_price=Decimal("3.33"), weight_grams=10, tax_rate=Decimal("0.19")
        ),
        pricing.LineInput(
            sku="B", seller_id=1, quantity=1, unit_price=Decimal("0.01"), weight_grams=10, tax_rate=Decimal("0.07")
        ),
        pricing.LineInput(
            sku="C", seller_id=2, quantity=7, unit_price=Decimal("1.43"), weight_grams=10, tax_rate=Decimal("0.19")
        ),
    ]

    priced = pricing.price(
        lines=lines, currency="EUR", method=BY_WEIGHT, discount_by_seller={1: Decimal("1.01"), 2: Decimal("0.99")}
    )

    for seller_id, package in priced.packages.items():
        mine = [amounts for line, amounts in zip(lines, priced.lines, strict=True) if line.seller_id == seller_id]
        for name in ("subtotal", "discount", "shipping", "tax", "total"):
            assert getattr(package, name) == sum(getattr(a, name) for a in mine)
    assert priced.discount == Decimal("2.00")
    assert priced.shipping == Decimal("22.80")  # two packages of 9.90 + 1 kg
    assert priced.total == priced.subtotal - priced.discount + priced.shipping + priced.tax


def test_checkout_prices_each_sellers_package_with_tax_by_category(buyer, make_variant):
    TaxRateFactory(country="DE", rate=Decimal("0.1900"))
    food = CategoryFactory(slug="food")
    TaxRateFactory(country="DE", category=food, rate=Decimal("0.0700"))
    seller = SellerFactory()
    bread = make_variant(price="10.00", seller=seller, category=food)
    pan = make_variant(price="20.00", seller=seller)
    other = make_variant(price="60.00")
    fill_cart(buyer, (bread, 1), (pan, 1), (other, 1))

    checkout = start(buyer)

    packages = {p.seller_id: p for p in checkout.packages.all()}
    assert packages[seller.pk].shipping == Decimal("4.90")
    assert packages[other.product.seller_id].shipping == Decimal("0.00")  # over 50.00: free
    lines = {line.sku: line for line in checkout.lines.all()}
    assert lines[bread.sku].tax_rate == Decimal("0.0700")
    assert lines[pan.sku].tax_rate == Decimal("0.1900")
    # bread: (10.00 + 1.63 of the shipping) x 7%; pan: (20.00 + 3.27) x 19%; other: 60.00 x 19%
    assert (lines[bread.sku].shipping, lines[pan.sku].shipping) == (Decimal("1.63"), Decimal("3.27"))
    assert (lines[bread.sku].tax, lines[pan.sku].tax, lines[other.sku].tax) == (
        Decimal("0.81"),
        Decimal("4.42"),
        Decimal("11.40"),
    )
    assert checkout.total == Decimal("90.00") + Decimal("4.90") + Decimal("16.63")
