"""Celery entry points of the payments app; each calls a service. Scheduled by celery beat
(shop.settings.CELERY_BEAT_SCHEDULE): reconciliation every minute."""

from __future__ import annotations

from celery import shared_task

from payments import services


@shared_task
def payments_reconcile_task() -> int:
    """Settle payments left open (timeouts, processing) for longer than PAYMENT_RECONCILE_AFTER by
    asking their gateways by idempotency key, and resend unanswered refunds and transfers with their
    keys. Returns how many payments settled."""
    return services.payments_reconcile()
