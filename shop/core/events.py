"""The transactional outbox (DESIGN.md, "Events").

``publish()`` writes an ``OutboxEvent`` row inside the caller's transaction, so the event exists if
and only if the change it announces was committed. After commit a Celery task delivers it to every
handler subscribed to its name; a periodic task re-delivers whatever is left undelivered (a broker
that was down only delays events). Delivery is at least once; each handler runs in its own
transaction together with a ``HandledEvent(event, handler)`` row, so its effect happens once.

Apps subscribe in their ``handlers.py`` (loaded by ``CoreConfig.ready``)::

    @handles("product.updated")
    def refresh_search_document(event: OutboxEvent) -> None:
        ...
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from shop.core.models import HandledEvent, OutboxEvent

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxEvent], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def handler_name(handler: Handler) -> str:
    """The stable name recorded in ``HandledEvent``; renaming a handler makes it run again."""
    return f"{handler.__module__}.{handler.__qualname__}"


def handles(*event_names: str) -> Callable[[Handler], Handler]:
    """Subscribe the decorated function to the named events."""

    def decorate(handler: Handler) -> Handler:
        for name in event_names:
            subscribe(name, handler)
        return handler

    return decorate


def subscribe(event_name: str, handler: Handler) -> None:
    if handler_name(handler) not in {handler_name(h) for h in _handlers[event_name]}:
        _handlers[event_name].append(handler)


def unsubscribe(event_name: str, handler: Handler) -> None:
    _handlers[event_name] = [h for h in _handlers[event_name] if handler_name(h) != handler_name(handler)]


@contextmanager
def subscribed(event_name: str, handler: Handler) -> Iterator[None]:
    """Subscribe a handler for the duration of a block (tests)."""
    subscribe(event_name, handler)
    try:
        yield
    finally:
        unsubscribe(event_name, handler)


def handlers_for(event_name: str) -> list[Handler]:
    return list(_handlers.get(event_name, ()))


def publish(name: str, payload: dict[str, Any]) -> OutboxEvent:
    """Record an event in the caller's transaction; it is relayed only if that transaction commits.

    The payload carries ids and the facts a handler needs; it must be JSON (Decimals, dates and
    UUIDs are encoded as strings).
    """
    # Round-trip through JSON now, so handlers see the same types whether delivered at once or later.
    event = OutboxEvent.objects.create(name=name, payload=json.loads(DjangoJSONEncoder().encode(payload)))
    transaction.on_commit(partial(_enqueue_delivery, event.pk), robust=True)
    return event


def _enqueue_delivery(event_id) -> None:
    from shop.core.tasks import outbox_deliver_task  # the task module imports this one

    try:
        outbox_deliver_task.delay(str(event_id))
    except Exception:  # broker down: the periodic re-delivery will find the row
        logger.warning("outbox: could not enqueue delivery of %s; re-delivery will pick it up", event_id, exc_info=True)


def deliver(event_id) -> bool:
    """Run every handler of one event that has not yet handled it. True when all have.

    Safe to call any number of times, concurrently too: each handler's ``HandledEvent`` row is
    inserted first in the handler's transaction, so a second relay waits on the unique index and
    then skips the handler, and a handler that fails rolls its row back and runs again next time.
    """
    event = OutboxEvent.objects.filter(pk=event_id).first()
    if event is None or event.delivered_at is not None:
        return True
    errors = []
    for handler in handlers_for(event.name):
        try:
            _run_once(event, handler)
        except Exception as exc:
            logger.exception("outbox: handler %s failed on %s %s", handler_name(handler), event.name, event.pk)
            errors.append(f"{handler_name(handler)}: {exc!r}")
    now = timezone.now()
    if errors:
        attempts = event.attempts + 1
        OutboxEvent.objects.filter(pk=event.pk).update(
            attempts=F("attempts") + 1,
            next_attempt_at=now + _backoff(attempts),
            last_error="\n".join(errors)[:4000],
        )
        return False
    OutboxEvent.objects.filter(pk=event.pk, delivered_at__isnull=True).update(
        delivered_at=now, attempts=F("attempts") + 1, last_error=""
    )
    return True


def _run_once(event: OutboxEvent, handler: Handler) -> None:
    with transaction.atomic():
        _, first_time = HandledEvent.objects.get_or_create(event=event, handler=handler_name(handler))
        if first_time:
            handler(event)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, 3600))


def pending_events(limit: int = 500) -> list[OutboxEvent]:
    """Undelivered events that are due: their relay never ran, or a handler failed and waited out its backoff."""
    now = timezone.now()
    due = Q(next_attempt_at__lte=now) | Q(
        next_attempt_at__isnull=True, created_at__lte=now - settings.OUTBOX_REDELIVER_AFTER
    )
    return list(
        OutboxEvent.objects.filter(due, delivered_at__isnull=True, attempts__lt=settings.OUTBOX_MAX_ATTEMPTS).order_by(
            "created_at"
        )[:limit]
    )


def redeliver_pending(limit: int = 500) -> int:
    """Deliver the due undelivered events; returns how many are now fully delivered."""
    return sum(deliver(event.pk) for event in pending_events(limit))


def prune_delivered() -> int:
    cutoff = timezone.now() - settings.OUTBOX_KEEP_DELIVERED
    deleted, _ = OutboxEvent.objects.filter(delivered_at__lt=cutoff).delete()
    return deleted
