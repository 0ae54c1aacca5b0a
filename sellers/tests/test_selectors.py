from decimal import Decimal

import pytest
from django.apps import apps

from sellers.selectors import commission_rate_for
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db


def CategoryFactory(*, slug="category", parent=None, commission_rate=None):
    # The real catalog model, looked up by name: sellers sits below catalog and must not import it,
    # while commission_rate_for is written for catalog.Category objects.
    category_model = apps.get_model("catalog", "Category")
    return category_model.objects.create(name=slug.title(), slug=slug, parent=parent, commission_rate=commission_rate)


def test_the_sellers_override_wins(settings):
    settings.PLATFORM_COMMISSION_RATE = Decimal("0.10")
    seller = SellerFactory(commission_rate=Decimal("0.0750"))
    category = CategoryFactory(commission_rate=Decimal("0.1500"))

    assert commission_rate_for(seller=seller, category=category) == Decimal("0.0750")


def test_the_category_rate_applies_without_an_override(settings):
    settings.PLATFORM_COMMISSION_RATE = Decimal("0.10")

    rate = commission_rate_for(seller=SellerFactory(), category=CategoryFactory(commission_rate=Decimal("0.15")))

    assert rate == Decimal("0.15")


def test_a_category_without_a_rate_takes_its_nearest_ancestors(settings):
    settings.PLATFORM_COMMISSION_RATE = Decimal("0.10")
    root = CategoryFactory(slug="electronics", commission_rate=Decimal("0.08"))
    middle = CategoryFactory(slug="phones", parent=root, commission_rate=Decimal("0.07"))
    leaf = CategoryFactory(slug="smartphones", parent=middle)

    assert commission_rate_for(seller=SellerFactory(), category=leaf) == Decimal("0.07")


def test_the_platform_rate_applies_when_nothing_else_does(settings):
    settings.PLATFORM_COMMISSION_RATE = Decimal("0.12")

    assert commission_rate_for(seller=SellerFactory(), category=CategoryFactory(slug="books")) == Decimal("0.12")
    assert commission_rate_for(seller=SellerFactory(), category=None) == Decimal("0.12")


def test_the_platform_rate_defaults_to_ten_percent_without_the_setting(settings):
    if hasattr(settings, "PLATFORM_COMMISSION_RATE"):
        del settings.PLATFORM_COMMISSION_RATE

    assert commission_rate_for(seller=SellerFactory(), category=None) == Decimal("0.10")
