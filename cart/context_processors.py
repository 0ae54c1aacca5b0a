"""Template context of the cart: ``cart_count`` for the header (settings TEMPLATES context_processors)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from cart import selectors


def cart_count(request: HttpRequest) -> dict:
    # Lazy: a page that does not print the count costs no Redis round trip; one that does costs one
    # HLEN, and 0 when Redis is down (cart_count_for_request never raises), so no page breaks.
    return {"cart_count": SimpleLazyObject(lambda: selectors.cart_count_for_request(request))}
