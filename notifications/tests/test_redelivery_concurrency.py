"""Two relays delivering the same events at the same moment (a duplicated Celery message racing the
periodic re-delivery) send each email once: real threads, each on its own database connection."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection

from orders import events as orders_events
from sellers.tests.factories import SellerFactory
from shop.core import events as outbox
from shop.core.models import HandledEvent, OutboxEvent


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_an_undelivered_event_send_each_email_once(buyer, make_variant, place_order):
    seller = SellerFactory(store_name="Race Track Records")
    order = place_order(buyer, [(make_variant(seller=seller, title="Vinyl"), 1)])
    names = [orders_events.ORDER_CONFIRMED, orders_events.SUB_ORDER_STATUS_CHANGED]
    event_ids = list(OutboxEvent.objects.filter(name__in=names).values_list("pk", flat=True))
    assert len(mail.outbox) == 2  # the receipt and the seller's new sub-order

    # Back to the state of events no relay has delivered yet.
    HandledEvent.objects.filter(event_id__in=event_ids).delete()
    OutboxEvent.objects.filter(pk__in=event_ids).update(delivered_at=None, attempts=0)
    mail.outbox.clear()

    relays = 4
    barrier = threading.Barrier(relays)
    outcomes: list = []

    def relay() -> None:
        try:
            barrier.wait(timeout=30)
            outcomes.append([outbox.deliver(event_id) for event_id in event_ids])
        except BaseException as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=relay) for _ in range(relays)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)

    assert outcomes == [[True, True]] * relays
    assert sorted(message.subject for message in mail.outbox) == sorted(
        [f"Your order {order.number} is confirmed", f"New order {order.number}: 1 item to ship"]
    )
