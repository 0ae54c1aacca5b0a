"""Factories of the sellers app, for its tests and the tests of every app above it."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from sellers.models import Seller


class SellerFactory(DjangoModelFactory):
    """An approved seller; pass ``status=Seller.Status.PENDING`` (or suspended) for the others."""

    class Meta:
        model = Seller

    user = factory.SubFactory(UserFactory, email=factory.Sequence(lambda n: f"seller{n}@example.com"))
    store_name = factory.Sequence(lambda n: f"Store {n}")
    slug = factory.Sequence(lambda n: f"store-{n}")
    status = Seller.Status.APPROVED
    description = "A friendly independent store."
