"""Factories of reviews, for its tests and the tests of the apps above it. Reviews made here skip the
services (no aggregate bookkeeping): use ``reviews.services.review_create`` where ratings matter."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from reviews.models import Review


class ReviewFactory(DjangoModelFactory):
    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    user = factory.SubFactory(UserFactory)
    rating = 4
    title = factory.Sequence(lambda n: f"Review {n}")
    body = "Does what it says. Well made, arrived quickly."
    author_name = "Ada L."
