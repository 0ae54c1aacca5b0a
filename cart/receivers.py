"""Django signal receivers of the cart app, connected in CartConfig.ready."""

from __future__ import annotations

import logging

from cart import selectors, services

logger = logging.getLogger(__name__)


def merge_guest_cart_on_login(sender, request=None, user=None, **kwargs) -> None:
    """``user_logged_in``: merge the guest cart of the request's signed cookie into the user's cart
    (the rule: ``cart.services.cart_merge``). Sent by the page log-in and by the API token view, with
    Django's HttpRequest, before either answers. A cart outage must not stop anyone signing in: the
    guest cart then stays in place and is merged at a later sign-in."""
    if request is None or user is None:
        return
    guest_id = selectors.guest_id_from_request(request)
    if guest_id is None:
        return
    try:
        services.cart_merge(guest_id=guest_id, user=user)
    except services.CartUnavailable:
        logger.warning("cart: guest cart not merged at sign-in of user %s (Redis unavailable)", user.pk)
