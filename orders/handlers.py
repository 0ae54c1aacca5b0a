"""Outbox handlers of the orders app (each runs once per event, shop.core.events)."""

from __future__ import annotations

from orders import services
from payments.events import PAYMENT_SETTLED
from shop.core.events import handles
from shop.core.models import OutboxEvent


@handles(PAYMENT_SETTLED)
def settle_checkout_payment(event: OutboxEvent) -> None:
    """A payment whose outcome was unknown settled: confirm its order, or take the checkout back
    (reserved again, or expired if its time is up). Payments of other references are ignored."""
    services.payment_settled(intent_id=event.payload["intent_id"], status=event.payload["status"])
