"""Celery entry points of the catalog: each loads by id and calls a service (catalog.services)."""

from __future__ import annotations

from celery import shared_task

from catalog import services


@shared_task(name="catalog.tasks.product_image_process_task", ignore_result=True)
def product_image_process_task(image_id: int) -> None:
    """Make an uploaded image's renditions. Enqueued after the upload commits; safe to run twice."""
    services.product_image_process(image_id=image_id)


@shared_task(name="catalog.tasks.product_images_process_pending_task", ignore_result=True)
def product_images_process_pending_task() -> int:
    """Periodic (Celery beat): enqueue again the images whose processing task was lost."""
    return services.product_image_process_pending()
