"""Factories of the catalog, for its tests and the tests of every app above it."""

from __future__ import annotations

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from catalog.models import Brand, Category, Product, Variant
from sellers.tests.factories import SellerFactory


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("parent", "slug")

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None


class BrandFactory(DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")


class ProductFactory(DjangoModelFactory):
    """An active product of an approved seller, with one variant (``variants=0`` for none)."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    seller = factory.SubFactory(SellerFactory)
    category = factory.SubFactory(CategoryFactory)
    brand = factory.SubFactory(BrandFactory)
    title = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = "A product described in a sentence or two."
    status = Product.Status.ACTIVE
    price = Decimal("19.99")
    currency = "EUR"

    @factory.post_generation
    def variants(self, create, extracted, **kwargs):
        if not create:
            return
        count = 1 if extracted is None else extracted
        for i in range(count):
            VariantFactory(product=self, price=self.price or Decimal("19.99"), position=i)


class VariantFactory(DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory, variants=0)
    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    price = Decimal("19.99")
    currency = "EUR"
    attributes = factory.LazyFunction(dict)
