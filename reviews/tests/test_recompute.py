"""``manage.py reviews_recompute``: zero drift after a long random sequence of changes, and drift
reported per product (and corrected) when the stored aggregate was changed behind the services."""

from __future__ import annotations

import io
import random

import pytest
from django.core.management import call_command

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from reviews import services
from reviews.models import ProductRating, Review
from reviews.tests.conftest import stored

pytestmark = pytest.mark.django_db


def _recompute(*args: str) -> str:
    out = io.StringIO()
    call_command("reviews_recompute", *args, stdout=out)
    return out.getvalue()


def test_a_random_sequence_of_changes_leaves_zero_drift():
    rng = random.Random(20240607)
    products = [ProductFactory() for _ in range(4)]
    users = [UserFactory() for _ in range(10)]
    reviews: dict[tuple[int, int], int] = {}  # (product, user) -> review id
    counts = dict.fromkeys(["create", "edit", "delete", "hide", "restore", "publish"], 0)

    for _ in range(300):
        product, user = rng.choice(products), rng.choice(users)
        key = (product.pk, user.pk)
        review_id = reviews.get(key)
        if review_id is None:
            body = rng.choice(["Solid.", "Works fine for me.", "see www.example.org", "Broke fast."])
            reviews[key] = services.review_create(user=user, product=product, rating=rng.randint(1, 5), body=body).pk
            counts["create"] += 1
            continue
        action = rng.choice(["edit", "edit", "delete", "hide", "restore", "publish"])
        if action == "edit":
            services.review_update(review_id=review_id, author=user, rating=rng.randint(1, 5))
        elif action == "delete":
            services.review_delete(review_id=review_id, author=user)
            del reviews[key]
        else:
            moderate = {"hide": services.review_hide, "restore": services.review_restore,
                        "publish": services.review_publish}[action]  # fmt: skip
            try:
                moderate(review_id=review_id)
            except services.ReviewConflict:
                continue  # not allowed from the review's state: nothing changed
        counts[action] += 1

    assert all(n > 5 for n in counts.values()), counts  # every kind of change happened, several times
    assert _recompute().strip().splitlines() == ["0 drifted"]
    for product in products:  # and the stored numbers are the real ones
        published = Review.objects.filter(product=product, status=Review.Status.PUBLISHED)
        histogram = {stars: published.filter(rating=stars).count() for stars in range(1, 6)}
        assert stored(product.pk)[:2] == (published.count(), histogram)


def test_drift_is_reported_per_product_and_corrected(product):
    buyer = UserFactory()
    services.review_create(user=buyer, product=product, rating=4)
    ProductRating.objects.filter(pk=product.pk).update(count=2, total=9, stars_5=1)  # behind the services' back

    dry = _recompute("--dry-run")
    assert f"product {product.pk}: stored [1★:0 2★:0 3★:0 4★:1 5★:1], recounted [1★:0 2★:0 3★:0 4★:1 5★:0]" in dry
    assert dry.strip().endswith("1 drifted")
    assert stored(product.pk)[0] == 2  # a dry run changes nothing

    assert _recompute().strip().endswith("1 drifted")
    assert stored(product.pk) == (1, {1: 0, 2: 0, 3: 0, 4: 1, 5: 0}, "4.00")
    assert _recompute().strip() == "0 drifted"
