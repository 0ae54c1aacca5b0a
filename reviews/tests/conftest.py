"""Fixtures of the reviews tests: a listed product, buyers, and the threads helper for races."""

from __future__ import annotations

import pytest

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from inventory.tests.conftest import run_concurrently  # noqa: F401 - re-exported for the race tests
from reviews.models import ProductRating


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
