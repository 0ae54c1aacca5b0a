"""Factories of the search tests: listed products with stock, indexed on demand."""

from __future__ import annotations

from decimal import Decimal

from django.utils.text import slugify

from catalog.models import Category, Product
from catalog.tests.factories import BrandFactory, CategoryFactory, ProductFactory
from inventory.tests.factories import StockFactory


def category(path: str, name: str = "") -> Category:
    """The category at ``path`` ("food/drinks"), with its ancestors, created as needed."""
    parent = None
    for slug in path.split("/"):
        parent = CategoryFactory(
            parent=parent, slug=slug, name=name if slug == path.split("/")[-1] and name else slug.title()
        )
    assert parent is not None
    return parent


def listed_product(
    title: str,
    *,
    category_path: str = "misc",
    brand: str = "Acme",
    price: str = "10.00",
    on_hand: int = 10,
    **fields,
) -> Product:
    product = ProductFactory(
        title=title,
        slug=slugify(title),
        category=category(category_path),
        brand=BrandFactory(name=brand, slug=slugify(brand)) if brand else None,
        price=Decimal(price),
        **fields,
    )
    for variant in product.variants.all():
        StockFactory(variant=variant, on_hand=on_hand)
    return product
