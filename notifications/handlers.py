"""Emails sent when domain events are delivered (outbox handlers; each runs once per event)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from catalog.models import Variant
from inventory import events as inventory_events
from sellers.models import Seller
from shop.core.events import handles
from shop.core.models import OutboxEvent


@handles(inventory_events.LOW_STOCK)
def email_seller_low_stock(event: OutboxEvent) -> None:
    """Tell the seller a SKU is running low, once per crossing of its threshold (the inventory app
    publishes the event once per crossing; the outbox runs this handler once per event)."""
    payload = event.payload
    seller = Seller.objects.select_related("user").filter(pk=payload["seller_id"]).first()
    variant = Variant.objects.select_related("product").filter(pk=payload["variant_id"]).first()
    if seller is None or variant is None:
        return  # deleted since: nobody to tell
    context = {
        "seller": seller,
        "product": variant.product,
        "sku": payload["sku"],
        "available": payload["available"],
        "threshold": payload["threshold"],
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
    }
    send_mail(
        subject=f"Low stock: {variant.product.title} ({payload['sku']}) has {payload['available']} left",
        message=render_to_string("notifications/email/low_stock.txt", context),
        from_email=None,
        recipient_list=[seller.user.email],
    )
