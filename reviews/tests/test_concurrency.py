"""Races on real concurrent transactions (threads, each on its own connection, released together)."""

from __future__ import annotations

import pytest

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from reviews import services
from reviews.models import Review
from reviews.tests.conftest import run_concurrently, stored

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_concurrent_submissions_by_one_buyer_make_one_review():
    product, buyer = ProductFactory(), UserFactory()

    results = run_concurrently(
        2, lambda i: services.review_create(user=buyer, product=product, rating=5 - i, title=f"attempt {i}")
    )

    created = [r for r in results if isinstance(r, Review)]
    refused = [r for r in results if isinstance(r, services.ReviewConflict)]
    assert (len(created), len(refused)) == (1, 1), results
    assert Review.objects.filter(product=product, user=buyer).count() == 1
    assert stored(product.pk)[0] == 1


def test_many_buyers_reviewing_and_editing_at_once_leave_an_exact_histogram():
    product = ProductFactory()
    buyers = [UserFactory() for _ in range(8)]

    def review_then_edit(i: int) -> None:
        review = services.review_create(user=buyers[i], product=product, rating=1 + i % 5)
        services.review_update(review_id=review.pk, author=buyers[i], rating=5 - i % 5)

    results = run_concurrently(8, review_then_edit)

    assert results == [None] * 8
    expected = dict.fromkeys(range(1, 6), 0)
    for i in range(8):
        expected[5 - i % 5] += 1
    count, histogram, _ = stored(product.pk)
    assert (count, histogram) == (8, expected)
    assert services.product_ratings_recompute(fix=False) == []
