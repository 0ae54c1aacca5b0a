"""Factories of the promotions app, for its tests and the tests of every app above it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from promotions.models import Coupon


class CouponFactory(DjangoModelFactory):
    """A platform-wide 10% coupon, valid since yesterday, without limits."""

    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"CODE{n}")
    kind = Coupon.Kind.PERCENT
    value = Decimal("10.00")
    currency = "EUR"
    min_subtotal = Decimal("0.00")
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    ends_at = None
    seller = None
