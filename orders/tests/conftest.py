"""Fixtures of the orders tests: buyable variants with stock, buyers with carts, a started checkout,
the sandbox gateway's ledger (how many charges it really made), and real concurrent threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from accounts.tests.factories import AddressFactory, UserFactory
from cart import services as cart_services
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from inventory.tests.factories import StockFactory
from orders import services
from orders.tests.factories import shipping_methods_ensure
from payments.models import SandboxOperation
from sellers.tests.factories import SellerFactory


@pytest.fixture(autouse=True)
def _shipping_methods(db):
    shipping_methods_ensure()


@pytest.fixture(autouse=True)
def _orders_settings(settings):
    settings.PAYMENT_GATEWAYS = ["sandbox"]
    settings.PAYMENT_RECONCILE_AFTER = 0
    settings.PAYMENT_BREAKER_MIN_CALLS = 1000  # no breaker trips in saga tests unless a test asks
    settings.CART_MAX_LINE_QUANTITY = 20
    settings.CART_MAX_LINES = 50
    settings.RATE_LIMITS_ENABLED = False
    settings.TAX_CALCULATOR = "orders.tax.RuleBasedTax"


@pytest.fixture
def make_variant():
    """A buyable variant of an approved seller's active product, with ``on_hand`` units."""

    def make(*, price: str = "10.00", on_hand: int = 10, seller=None, category=None, weight_grams: int = 500, **fields):
        product = ProductFactory(
            price=Decimal(price),
            variants=0,
            seller=seller or SellerFactory(),
            category=category or CategoryFactory(),
        )
        variant = VariantFactory(product=product, price=Decimal(price), weight_grams=weight_grams, **fields)
        StockFactory(variant=variant, on_hand=on_hand)
        return variant

    return make


@pytest.fixture
def buyer():
    user = UserFactory()
    AddressFactory(user=user, is_default=True)
    return user


def fill_cart(user, *items: tuple[Any, int]) -> None:
    owner = cart_services.CartOwner(user=user)
    for variant, quantity in items:
        cart_services.cart_line_add(owner=owner, sku=variant.sku, quantity=quantity)


def start(user, *, key: str = "start-1", method: str = "standard", coupon: str = ""):
    checkout, _ = services.checkout_start(user=user, idempotency_key=key, shipping_method=method, coupon=coupon)
    return checkout


def pay(user, checkout, *, key: str = "pay-1", token: str = "tok_visa", gateway: str = ""):  # noqa: S107
    return services.checkout_pay(user=user, checkout_id=checkout.pk, idempotency_key=key, token=token, gateway=gateway)


def charges_made() -> int:
    """Charges the sandbox gateway really made (its own ledger), whatever the shop recorded."""
    return SandboxOperation.objects.filter(kind="charge", status="succeeded").count()


@pytest.fixture
def cart_of():
    return fill_cart


def run_concurrently(count: int, work: Callable[[int], Any], *, timeout: float = 60) -> list[Any]:
    """``work(i)`` in ``count`` threads released together by a barrier, each on its own database
    connection (closed at the end). Returns each result, or the exception raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = work(index)
        except BaseException as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock or lock wait)"
    return results
