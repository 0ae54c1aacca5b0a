"""Read queries of the catalog."""

from __future__ import annotations

from django.db.models import QuerySet

from catalog.models import PATH_SEPARATOR, Category


def category_roots() -> QuerySet[Category]:
    return Category.objects.filter(parent__isnull=True).order_by("position", "name")


def category_descendants(category: Category, *, include_self: bool = True) -> QuerySet[Category]:
    descendants = Category.objects.filter(path__startswith=category.path + PATH_SEPARATOR)
    if include_self:
        descendants = descendants | Category.objects.filter(pk=category.pk)
    return descendants


def category_breadcrumbs(category: Category) -> list[Category]:
    """The ancestors from the root, then the category itself, in one query."""
    by_path = {c.path: c for c in Category.objects.filter(path__in=category.ancestor_paths)}
    return [by_path[p] for p in category.ancestor_paths if p in by_path] + [category]
