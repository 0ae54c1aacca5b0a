"""Shared fixtures. Tests run against real PostgreSQL and Redis (DATABASE_URL / REDIS_URL, or the
embedded servers); Redis tests use their own database number (REDIS_TEST_DB, default 15)."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with an empty test Redis database (rate-limit counters, caches, carts), and
    without the pages and category names this process kept copies of."""
    from search.backends.postgres import forget_category_names
    from storefront.versions import clear_local_copies

    cache.clear()
    clear_local_copies()
    forget_category_names()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()
