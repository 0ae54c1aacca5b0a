"""Catalogue fixtures for the storefront's tests: a small category tree and a product builder."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.models import Category, Product, ProductImage
from catalog.tests.factories import ProductFactory, VariantFactory
from inventory.tests.factories import StockFactory


def renditions_for(key: str) -> dict:
    return {
        name: {"webp": f"products/r/{key}/abc123-{name}.webp", "jpeg": f"products/r/{key}/abc123-{name}.jpg",
               "width": size, "height": size}
        for name, size in (("thumbnail", 320), ("medium", 720), ("large", 1400))
    }  # fmt: skip


def add_image(product: Product, *, position: int = 0, alt: str = "") -> ProductImage:
    image = ProductImage.objects.create(
        product=product,
        original=f"products/originals/{product.slug}-{position}.jpg",
        width=1600,
        height=1600,
        alt_text=alt,
        position=position,
        status=ProductImage.Status.READY,
    )
    image.renditions = renditions_for(f"{image.pk}")
    image.save(update_fields=["renditions"])
    if position == 0:
        Product.objects.filter(pk=product.pk).update(primary_image=image)
    return image


def make_product(
    *,
    category: Category,
    title: str = "",
    price: str = "19.99",
    compare_at: str | None = None,
    variants: list[dict] | None = None,
    stock: int | list[int] = 10,
    images: int = 0,
    **fields,
) -> Product:
    """A listed product with variants (one per attribute dict), stock for each, and images."""
    variants = variants if variants is not None else [{}]
    extra = {"title": title} if title else {}
    product = ProductFactory(category=category, price=Decimal(price), variants=0, **extra, **fields)
    units = stock if isinstance(stock, list) else [stock] * len(variants)
    for position, (attributes, on_hand) in enumerate(zip(variants, units, strict=True)):
        variant = VariantFactory(
            product=product,
            price=Decimal(price),
            compare_at_price=Decimal(compare_at) if compare_at else None,
            attributes=attributes,
            position=position,
        )
        StockFactory(variant=variant, on_hand=on_hand)
    for position in range(images):
        add_image(product, position=position, alt=f"{product.title} photo {position + 1}")
    product.refresh_from_db()
    return product


@pytest.fixture
def tree():
    electronics = Category.objects.create(
        name="Electronics", slug="electronics", position=1, description="Phones, laptops and the rest."
    )
    phones = Category.objects.create(name="Phones", slug="phones", parent=electronics, position=2)
    smartphones = Category.objects.create(
        name="Smartphones",
        slug="smartphones",
        parent=phones,
        attribute_schema=[
            {"name": "screen_size", "type": "number", "required": True},
            {"name": "colour", "type": "choice", "choices": ["Black", "White"]},
        ],
    )
    laptops = Category.objects.create(name="Laptops", slug="laptops", parent=electronics, position=1)
    garden = Category.objects.create(name="Garden", slug="garden", position=2)
    return {
        "electronics": electronics,
        "phones": phones,
        "smartphones": smartphones,
        "laptops": laptops,
        "garden": garden,
    }
