"""Read queries of the storefront: what the buyer-facing pages show, composed from the apps below."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Prefetch

from catalog.models import Category
from catalog.selectors import category_roots

NAV_CATEGORIES_CACHE_KEY = "storefront:nav-categories:v1"
# Every page shows the header, so the query is cached; a new or renamed root category shows up
# within five minutes, which is soon enough for a change an operator makes a few times a year.
NAV_CATEGORIES_TIMEOUT = 5 * 60


def nav_categories() -> list[dict[str, str]]:
    """The root categories for the header, as plain dicts so they cache without pickling models.

    The cache ignores Redis errors (a miss), so when Redis is down this costs one query, not the page.
    """
    cached = cache.get(NAV_CATEGORIES_CACHE_KEY)
    if cached is not None:
        return cached
    categories = [{"name": c.name, "path": c.path} for c in category_roots().only("name", "path")]
    cache.set(NAV_CATEGORIES_CACHE_KEY, categories, NAV_CATEGORIES_TIMEOUT)
    return categories


def home_categories() -> list[Category]:
    """The root categories with their children in sibling order: two queries whatever the tree's size."""
    children = Category.objects.order_by("position", "name").only("name", "path", "parent_id")
    return list(category_roots().prefetch_related(Prefetch("children", queryset=children)))
