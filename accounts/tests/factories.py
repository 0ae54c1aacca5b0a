"""Factories of the accounts app, for its tests and for the tests of every app above it."""

from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password
from factory.django import DjangoModelFactory

from accounts.models import Address, User

PASSWORD = "correct horse battery staple"
# Hashed once per test run: argon2 is slow on purpose, and every factory user shares this password.
PASSWORD_HASH = make_password(PASSWORD)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    password = PASSWORD_HASH
    full_name = factory.Sequence(lambda n: f"Buyer {n}")


class AddressFactory(DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    full_name = factory.LazyAttribute(lambda address: address.user.full_name or "Ada Buyer")
    line1 = factory.Sequence(lambda n: f"{n + 1} Market Street")
    city = "Berlin"
    postal_code = "10115"
    country = "DE"
    phone = "+49 30 1234567"
