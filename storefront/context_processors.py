"""Context for the layout every storefront page extends (templates/base.html)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from storefront import selectors


def navigation(request: HttpRequest) -> dict:
    # Lazy: the admin and other pages that never show the category row do not touch the cache.
    return {"nav_categories": SimpleLazyObject(selectors.nav_categories)}
