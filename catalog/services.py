"""Commands that change the catalog."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from catalog.models import Category


@transaction.atomic
def category_get_or_create(
    *,
    name: str,
    parent: Category | None = None,
    slug: str = "",
    position: int = 0,
    attribute_schema: list | None = None,
) -> tuple[Category, bool]:
    """The child of ``parent`` with this slug, created if missing (idempotent, for seeding and imports)."""
    slug = slug or slugify(name)
    return Category.objects.get_or_create(
        parent=parent,
        slug=slug,
        defaults={"name": name, "position": position, "attribute_schema": attribute_schema or []},
    )
