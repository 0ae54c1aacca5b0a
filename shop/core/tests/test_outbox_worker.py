"""The outbox relay through a real Celery worker and broker (Redis), not the eager shortcut."""

import time

import pytest
from celery import current_app
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from kombu import pools

from shop.core import events
from shop.core.models import OutboxEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def real_broker():
    app = current_app
    app.conf.task_always_eager = False
    try:
        yield app
    finally:
        app.conf.task_always_eager = True
        # Closing the broker's pool closes kombu's process-wide pool for that URL, which the eager
        # path still acquires a producer from: drop every pool so the tests after these get new ones.
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None


def follow_up(event):
    events.publish("test.worker_follow_up", {"source": str(event.pk)})


def test_committed_event_is_delivered_by_a_worker(real_broker):
    with events.subscribed("test.worker", follow_up), start_worker(real_broker, pool="solo", perform_ping_check=False):
        with transaction.atomic():
            event = events.publish("test.worker", {"n": 1})

        assert wait_for(lambda: OutboxEvent.objects.filter(pk=event.pk, delivered_at__isnull=False).exists())
    assert OutboxEvent.objects.filter(name="test.worker_follow_up", payload__source=str(event.pk)).count() == 1


def test_publish_with_the_broker_down_keeps_the_event_for_redelivery(real_broker, settings, caplog):
    real_broker.pool.force_close_all()
    real_broker._pool = None  # the producer pool is bound to the broker URL it was made with
    real_broker.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        with events.subscribed("test.worker", follow_up), transaction.atomic():
            event = events.publish("test.worker", {"n": 2})
        # the commit succeeded; only the enqueue failed, and said so
        assert "re-delivery will pick it up" in caplog.text
    finally:
        real_broker.pool.force_close_all()
        real_broker._pool = None
        real_broker.conf.broker_url = settings.CELERY_BROKER_URL

    event.refresh_from_db()
    assert event.delivered_at is None
    OutboxEvent.objects.filter(pk=event.pk).update(created_at=event.created_at - settings.OUTBOX_REDELIVER_AFTER * 2)
    with events.subscribed("test.worker", follow_up):
        assert events.redeliver_pending() == 1
    event.refresh_from_db()
    assert event.delivered_at is not None
