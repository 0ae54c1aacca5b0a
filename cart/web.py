"""What the cart's pages and API endpoints share: the guest cookie and the add-to-cart rate limits.
Private to the cart app."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from cart import selectors, store
from cart.selectors import GUEST_COOKIE, GUEST_COOKIE_SALT
from cart.store import CartOwner
from shop.core import ratelimit

logger = logging.getLogger(__name__)

_NEW_GUEST = "_cart_new_guest_id"  # a request attribute: the guest id to set on the response

# Adding to cart per user (or guest cart) and per client address; RATE_LIMIT_CART_ADD(_IP) set them.
RATE_LIMIT_USER = "cart_add"
RATE_LIMIT_IP = "cart_add_ip"


def owner_for_write(request: HttpRequest) -> CartOwner:
    """The cart a change goes to; a guest without a cart gets a new id (``remember_guest`` sets the cookie)."""
    owner = selectors.cart_owner_for_request(request)
    if owner is not None:
        return owner
    guest_id = getattr(request, _NEW_GUEST, None) or uuid.uuid4().hex
    setattr(request, _NEW_GUEST, guest_id)
    return CartOwner(guest_id=guest_id)


def remember_guest(request: HttpRequest, response: HttpResponse, owner: CartOwner | None) -> HttpResponse:
    """Set (or renew, for as long as the cart lives) the guest's signed cookie after a change."""
    if owner is not None and owner.is_guest:
        response.set_signed_cookie(
            GUEST_COOKIE,
            owner.guest_id,
            salt=GUEST_COOKIE_SALT,
            max_age=store.ttl_seconds(),
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


def add_rate_limited(request: HttpRequest, owner: CartOwner) -> bool:
    """Count an add-to-cart against the per-user (or per guest cart) and per-address limits; True
    when either is exceeded. A limit missing from ``settings.RATE_LIMITS`` is not applied."""
    limits = getattr(settings, "RATE_LIMITS", {})
    over = False
    if RATE_LIMIT_USER in limits:
        who = f"user:{owner.user.pk}" if owner.user is not None else f"guest:{owner.guest_id}"
        over = ratelimit.hit(request, RATE_LIMIT_USER, key=f"cart:{who}")
    if RATE_LIMIT_IP in limits:
        over = ratelimit.hit(request, RATE_LIMIT_IP, key="ip") or over
    if RATE_LIMIT_USER not in limits or RATE_LIMIT_IP not in limits:
        logger.debug("cart: add-to-cart rate limits not configured in settings.RATE_LIMITS")
    return over
