"""The outbox delivers an event only if its transaction committed, and each handler's effect once."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from shop.core import events
from shop.core.models import HandledEvent, OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)

FOLLOW_UP = "test.follow_up"


def record_follow_up(event):
    """A handler whose effect is a database write we can count: a follow-up event."""
    events.publish(FOLLOW_UP, {"source": str(event.pk)})


def follow_ups(event) -> int:
    return OutboxEvent.objects.filter(name=FOLLOW_UP, payload__source=str(event.pk)).count()


@pytest.fixture
def handler():
    with events.subscribed("test.happened", record_follow_up):
        yield record_follow_up


def test_event_published_in_rolled_back_transaction_is_never_delivered(handler):
    class Boom(Exception):
        pass

    def publish_then_fail():
        with transaction.atomic():
            events.publish("test.happened", {"n": 1})
            raise Boom

    with pytest.raises(Boom):
        publish_then_fail()

    assert not OutboxEvent.objects.filter(name="test.happened").exists()
    assert events.redeliver_pending() == 0
    assert not OutboxEvent.objects.filter(name=FOLLOW_UP).exists()


def test_committed_event_is_delivered_after_commit_to_each_handler_once(handler):
    calls = []

    def second_handler(event):
        calls.append(event.pk)

    with events.subscribed("test.happened", second_handler), transaction.atomic():
        event = events.publish("test.happened", {"n": 1})
        assert follow_ups(event) == 0  # nothing runs before commit

    # the eager relay ran on commit
    event.refresh_from_db()
    assert event.delivered_at is not None
    assert follow_ups(event) == 1
    assert calls == [event.pk]
    assert HandledEvent.objects.filter(event=event).count() == 2


def test_relay_running_twice_applies_each_handler_once(handler):
    with transaction.atomic():
        event = events.publish("test.happened", {"n": 1})

    assert events.deliver(event.pk) is True
    OutboxEvent.objects.filter(pk=event.pk).update(delivered_at=None)  # as if the relay never marked it
    assert events.deliver(event.pk) is True
    assert events.deliver(event.pk) is True

    assert follow_ups(event) == 1


def test_handler_that_fails_once_is_retried_and_applied_once():
    failures = {"left": 1}

    def flaky(event):
        events.publish(FOLLOW_UP, {"source": str(event.pk)})  # rolled back with the failure
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("downstream hiccup")

    with events.subscribed("test.flaky", flaky):
        with transaction.atomic():
            event = events.publish("test.flaky", {})
        event.refresh_from_db()
        assert event.delivered_at is None
        assert event.attempts == 1
        assert "downstream hiccup" in event.last_error
        assert event.next_attempt_at > timezone.now()
        assert follow_ups(event) == 0
        assert not HandledEvent.objects.filter(event=event).exists()

        assert events.redeliver_pending() == 0  # not due yet: it waits out its backoff
        OutboxEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert events.redeliver_pending() == 1

    event.refresh_from_db()
    assert event.delivered_at is not None
    assert follow_ups(event) == 1


def test_concurrent_relays_of_one_event_apply_the_handler_once():
    started = threading.Barrier(2)

    def slow(event):
        time.sleep(0.2)  # both relays are inside their handler transaction at once
        events.publish(FOLLOW_UP, {"source": str(event.pk)})

    with events.subscribed("test.slow", slow):
        # recorded without the eager relay: the two threads below are the relays
        event = OutboxEvent.objects.create(name="test.slow", payload={})

        results = []

        def relay():
            try:
                started.wait()
                results.append(events.deliver(event.pk))
            finally:
                connection.close()

        threads = [threading.Thread(target=relay) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert results == [True, True]
    assert follow_ups(event) == 1


def test_undelivered_event_is_picked_up_by_redelivery(handler, settings):
    # An event whose relay never ran (the broker was down when it committed)
    event = OutboxEvent.objects.create(name="test.happened", payload={})
    assert events.redeliver_pending() == 0  # too young: its relay may still be on the way

    OutboxEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - settings.OUTBOX_REDELIVER_AFTER * 2)
    assert events.redeliver_pending() == 1
    assert follow_ups(event) == 1


def test_payload_is_plain_json_for_handlers():
    from decimal import Decimal

    event = events.publish("test.json", {"price": Decimal("19.99"), "at": timezone.now()})
    assert event.payload["price"] == "19.99"
    event.refresh_from_db()
    assert event.payload["price"] == "19.99"
