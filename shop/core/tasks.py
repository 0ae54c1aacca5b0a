from celery import shared_task

from shop.core import events


@shared_task(name="shop.core.tasks.outbox_deliver_task", ignore_result=True)
def outbox_deliver_task(event_id: str) -> bool:
    return events.deliver(event_id)


@shared_task(name="shop.core.tasks.outbox_redeliver_task", ignore_result=True)
def outbox_redeliver_task() -> int:
    return events.redeliver_pending()


@shared_task(name="shop.core.tasks.outbox_prune_task", ignore_result=True)
def outbox_prune_task() -> int:
    return events.prune_delivered()
