"""Fixtures of the cart tests: buyable variants with stock, users, clients, a Redis that is down."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_redis import get_redis_connection

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory, VariantFactory
from inventory.tests.factories import StockFactory

REDIS_DOWN = "redis://127.0.0.1:1/0"  # nothing listens there


@pytest.fixture(autouse=True)
def _cart_urls_and_limits(settings):
    # The project's URLs plus the cart's (cart/tests/urls.py); the cart's limits at their defaults.
    settings.ROOT_URLCONF = "cart.tests.urls"
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "cart_add": "60/m", "cart_add_ip": "120/m"}
    settings.CART_MAX_LINE_QUANTITY = 20
    settings.CART_MAX_LINES = 50
    settings.CART_DURABLE_MIN_VALUE = "500.00"


@pytest.fixture
def make_variant():
    """A buyable variant (an active product of an approved seller) with ``on_hand`` units in stock."""

    def make(*, price: str = "10.00", on_hand: int = 10, title: str = "", **fields):
        extra = {"title": title} if title else {}
        product = ProductFactory(price=Decimal(price), variants=0, **extra)
        variant = VariantFactory(product=product, price=Decimal(price), **fields)
        StockFactory(variant=variant, on_hand=on_hand)
        return variant

    return make


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def business_user():
    return UserFactory(is_business=True)


@pytest.fixture
def redis():
    return get_redis_connection("default")


@pytest.fixture
def redis_down(settings):
    """Point the cache (and so every raw client) at a port nothing listens on."""
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": REDIS_DOWN,
            "OPTIONS": {
                **settings.CACHES["default"]["OPTIONS"],
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
            },
        }
    }
