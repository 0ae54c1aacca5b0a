"""Queries of the payments app."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from payments import breaker
from payments.models import PaymentAttempt, PaymentIntent

UNSETTLED = [PaymentIntent.Status.PENDING, PaymentIntent.Status.PROCESSING, PaymentIntent.Status.UNKNOWN]


def payment_intent_get(*, intent_id: int) -> PaymentIntent:
    """The intent; ``PaymentIntent.DoesNotExist`` when there is none."""
    return PaymentIntent.objects.get(pk=intent_id)


def payment_intents_for_reference(*, reference: str) -> QuerySet[PaymentIntent]:
    """Every payment made for ``reference`` (an order or checkout), newest first."""
    return PaymentIntent.objects.filter(reference=reference).order_by("-created_at", "-id")


def payment_intents_unsettled(*, older_than: datetime) -> QuerySet[PaymentIntent]:
    """Intents still open (pending, processing, unknown) and untouched since ``older_than``: what
    reconciliation settles. Younger ones may still have their gateway call running."""
    return PaymentIntent.objects.filter(status__in=UNSETTLED, updated_at__lt=older_than).order_by("updated_at")


def gateway_stats() -> dict[str, dict]:
    """Per gateway (configured or ever called): successes and errors of all recorded calls, and its
    circuit breaker (state, counts of the breaker window, open_until as a Unix time)."""
    rows = PaymentAttempt.objects.values("gateway").annotate(
        calls=Count("id"),
        successes=Count("id", filter=Q(outcome__in=["succeeded", "declined", "processing", "not_found"])),
        errors=Count("id", filter=Q(outcome__in=["error", "timeout"])),
    )
    stats: dict[str, dict] = {name: {"calls": 0, "successes": 0, "errors": 0} for name in settings.PAYMENT_GATEWAYS}
    for row in rows:
        stats[row["gateway"]] = {"calls": row["calls"], "successes": row["successes"], "errors": row["errors"]}
    for name, entry in stats.items():
        entry["breaker"] = breaker.state(name)
    return stats
