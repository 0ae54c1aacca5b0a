"""Celery entry points of reviews: each loads by id and calls a service (reviews.services)."""

from __future__ import annotations

from celery import shared_task

from reviews import services


@shared_task(name="reviews.tasks.review_photo_process_task", ignore_result=True)
def review_photo_process_task(photo_id: int) -> None:
    """Make a review photo's renditions. Enqueued after the upload commits; safe to run twice."""
    services.review_photo_process(photo_id=photo_id)


@shared_task(name="reviews.tasks.review_photos_process_pending_task", ignore_result=True)
def review_photos_process_pending_task() -> int:
    """Periodic (Celery beat): enqueue again the photos whose processing task was lost."""
    return services.review_photos_process_pending()


@shared_task(name="reviews.tasks.seller_rating_refresh_task", ignore_result=True)
def seller_rating_refresh_task(seller_id: int) -> None:
    """After a change to one of the seller's product ratings (enqueued on commit)."""
    services.seller_rating_refresh(seller_id=seller_id)


@shared_task(name="reviews.tasks.seller_ratings_refresh_all_task", ignore_result=True)
def seller_ratings_refresh_all_task() -> int:
    """Periodic (Celery beat, nightly): fulfilment speed changes as orders ship, without a review."""
    return services.seller_ratings_refresh_all()
