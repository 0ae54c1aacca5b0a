"""Celery entry points of the orders app; each calls a service. Scheduled by celery beat
(shop.settings.CELERY_BEAT_SCHEDULE): checkout expiry and the saga's resume task, every minute."""

from __future__ import annotations

from celery import shared_task

from orders import services


@shared_task
def checkouts_expire_task() -> int:
    """Release the stock and coupon use of every reserved checkout past its ``expires_at``."""
    return services.checkouts_expire()


@shared_task
def orders_resume_task() -> int:
    """Settle payments left in flight (confirm or reopen their checkouts) and issue pending refunds."""
    return services.orders_resume()
