"""Fixtures of the reviews tests: a listed product, buyers, and the threads helper for races."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from reviews.models import ProductRating


def run_concurrently(count: int, work: Callable[[int], Any], *, timeout: float = 30) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together by a barrier, each on its own database
    connection (closed at the end). Returns each thread's result, or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = work(index)
        except BaseException as exc:  # handed back to the test, which asserts on it
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


@pytest.fixture
def product():
    return ProductFactory()


@pytest.fixture
def buyers():
    return [UserFactory(full_name=f"Buyer Number{i}") for i in range(6)]


def stored(product_id: int) -> tuple[int, dict[int, int], str | None]:
    """(count, histogram, average as a string) as stored."""
    rating = ProductRating.objects.filter(pk=product_id).first()
    if rating is None:
        return (0, dict.fromkeys(range(1, 6), 0), None)
    return (rating.count, rating.histogram(), None if rating.average is None else str(rating.average))
