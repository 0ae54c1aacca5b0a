"""The stock figures pages show: a Redis copy written through by every stock change after commit,
read from the database for what the copy does not hold, never trusted for selling."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import transaction

from catalog.tests.factories import VariantFactory
from inventory import selectors, services
from inventory.tests.factories import StockFactory

pytestmark = pytest.mark.django_db


def _shown(*variant_ids: int) -> dict[int, int]:
    return selectors.displayed_availability_for_variants(variant_ids=variant_ids)


def test_a_miss_reads_the_database_once_then_the_copy(django_assert_num_queries):
    stocked = StockFactory(on_hand=10, reserved=3)
    unstocked = VariantFactory()

    with django_assert_num_queries(1):
        assert _shown(stocked.variant_id, unstocked.pk) == {stocked.variant_id: 7, unstocked.pk: 0}
    with django_assert_num_queries(0):
        assert _shown(stocked.variant_id, unstocked.pk) == {stocked.variant_id: 7, unstocked.pk: 0}


def test_every_kind_of_stock_change_writes_its_figure_after_commit(django_capture_on_commit_callbacks):
    stock = StockFactory(on_hand=10)
    assert _shown(stock.variant_id) == {stock.variant_id: 10}

    with django_capture_on_commit_callbacks(execute=True):
        services.stock_set(variant=stock.variant, on_hand=8)
    assert _shown(stock.variant_id) == {stock.variant_id: 8}

    with django_capture_on_commit_callbacks(execute=True):
        reservation = services.reservation_create(key="checkout:a", lines=[(stock.sku, 3)])
    assert _shown(stock.variant_id) == {stock.variant_id: 5}

    with django_capture_on_commit_callbacks(execute=True):
        services.reservation_release(reservation_id=reservation.pk)
    assert _shown(stock.variant_id) == {stock.variant_id: 8}

    with django_capture_on_commit_callbacks(execute=True):
        reservation = services.reservation_create(key="checkout:b", lines=[(stock.sku, 2)])
        services.reservation_commit(reservation_id=reservation.pk)
    assert _shown(stock.variant_id) == {stock.variant_id: 6}

    with django_capture_on_commit_callbacks(execute=True):
        services.stock_adjust(sku=stock.sku, delta=-6, reason="damaged")
    assert _shown(stock.variant_id) == {stock.variant_id: 0}


def test_a_change_that_rolls_back_leaves_the_copy_alone(django_capture_on_commit_callbacks):
    stock = StockFactory(on_hand=10)
    _shown(stock.variant_id)

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                services.stock_set(variant=stock.variant, on_hand=1)
                raise RuntimeError("the caller's transaction fails after the change")
        except RuntimeError:
            pass

    assert _shown(stock.variant_id) == {stock.variant_id: 10}


def test_a_slow_reader_does_not_overwrite_a_newer_figure(django_capture_on_commit_callbacks):
    stock = StockFactory(on_hand=10)
    stale = selectors.availability_for_variants(variant_ids=[stock.variant_id])  # read before the change
    with django_capture_on_commit_callbacks(execute=True):
        services.stock_set(variant=stock.variant, on_hand=4)

    cache.add(services.availability_key(stock.variant_id), stale[stock.variant_id])  # what a reader does

    assert _shown(stock.variant_id) == {stock.variant_id: 4}


def test_with_redis_down_the_figures_come_from_the_database(settings):
    stock = StockFactory(on_hand=10, reserved=1)
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }

    assert _shown(stock.variant_id) == {stock.variant_id: 9}
