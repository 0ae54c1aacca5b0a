"""Fixtures of the notifications tests: real orders made through the checkout saga (sandbox gateway),
with every outbox event delivered as its transaction commits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tests.factories import AddressFactory, UserFactory
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from inventory.tests.factories import StockFactory
from orders.tests.factories import order_through_checkout, shipping_methods_ensure
from sellers.tests.factories import SellerFactory


@pytest.fixture(autouse=True)
def _order_settings(settings, db):
    shipping_methods_ensure()
    settings.PAYMENT_GATEWAYS = ["sandbox"]
    settings.RATE_LIMITS_ENABLED = False
    settings.TAX_CALCULATOR = "orders.tax.RuleBasedTax"
    settings.SITE_URL = "https://shop.example.com"


@pytest.fixture
def make_variant():
    """A buyable variant of an approved seller's product, with stock."""

    def make(*, price: str = "10.00", on_hand: int = 20, seller=None, title: str | None = None, **fields):
        product_fields = {"title": title} if title else {}
        product = ProductFactory(
            price=Decimal(price),
            variants=0,
            seller=seller or SellerFactory(),
            category=CategoryFactory(),
            **product_fields,
        )
        variant = VariantFactory(product=product, price=Decimal(price), **fields)
        StockFactory(variant=variant, on_hand=on_hand, low_stock_threshold=0)
        return variant

    return make


@pytest.fixture
def buyer():
    user = UserFactory(full_name="Ada Buyer")
    AddressFactory(user=user, is_default=True, full_name="Ada Buyer", line1="1 Market Street", city="Berlin")
    return user


@pytest.fixture
def place_order(django_capture_on_commit_callbacks):
    """``place_order(buyer, [(variant, quantity), ...])``: a paid order, its events delivered."""

    def place(user, items, **options):
        with django_capture_on_commit_callbacks(execute=True):
            return order_through_checkout(buyer=user, items=items, **options)

    return place


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed(): ...``: run the block and deliver the events it published, as after a commit."""

    def block():
        return django_capture_on_commit_callbacks(execute=True)

    return block
