"""A cart lives in Redis (cart.services); a durable cart is also kept here, so that losing Redis
loses no business buyer's (or large) cart."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DurableCart(models.Model):
    """The write-through copy of a user's Redis cart: ``lines`` is the Redis hash as it was after the
    last change, ``{sku: {"quantity", "unit_price", "currency", "added_at"}}``. Kept for business
    buyers and for carts worth at least ``CART_DURABLE_MIN_VALUE``; removed when a cart stops
    qualifying, so a stale copy is never restored."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="durable_cart")
    lines = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Durable cart of user {self.user_id} ({len(self.lines)} lines)"
