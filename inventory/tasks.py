"""Celery entry points of the inventory app; each calls a service. Scheduled by celery beat
(shop.settings.CELERY_BEAT_SCHEDULE): expiry every minute, flash-sale reconciliation every minute."""

from __future__ import annotations

import logging

from celery import shared_task

from inventory import selectors, services

logger = logging.getLogger(__name__)


@shared_task
def reservations_expire_task() -> int:
    """Release the stock of every reservation past its ``expires_at``."""
    return services.reservations_expire()


@shared_task
def flash_sale_reconcile_task() -> int:
    """Set each flash-sale SKU's token bucket back to the units the database has available. Returns
    how many buckets were set; a Redis outage leaves them for the next run."""
    reconciled = 0
    for sku in selectors.flash_sale_skus():
        try:
            if services.flash_sale_reconcile(sku=sku) is not None:
                reconciled += 1
        except services.FlashSaleUnavailable:
            logger.warning("inventory: flash-sale reconciliation stopped: Redis unavailable")
            break
    return reconciled
