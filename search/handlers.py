"""Outbox handlers that keep the search index current (shop.core.events): a product change is
searchable as soon as its event is relayed, a seller's suspension hides its whole range.

The ``SearchDocument`` table is updated here in every configuration (it is the PostgreSQL backend's
index, and the source the Elasticsearch index is loaded from). With ``SEARCH_BACKEND=elasticsearch``
the products touched are then synced to Elasticsearch by a Celery task, after this handler commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction

from catalog import events as catalog_events
from catalog.models import Product, Variant
from inventory.events import STOCK_CHANGED
from reviews import events as reviews_events
from search import services
from search.tasks import elasticsearch_documents_sync_task
from sellers import events as sellers_events
from shop.core.events import handles
from shop.core.models import OutboxEvent

ELASTICSEARCH_SYNC_BATCH = 1_000  # product ids per task: a large seller's range is spread over workers


def _elasticsearch_sync(product_ids: Sequence[int]) -> None:
    if getattr(settings, "SEARCH_BACKEND", "postgres") != "elasticsearch" or not product_ids:
        return
    for start in range(0, len(product_ids), ELASTICSEARCH_SYNC_BATCH):
        batch = list(product_ids[start : start + ELASTICSEARCH_SYNC_BATCH])
        # after commit: the task must read the document this handler wrote
        transaction.on_commit(lambda batch=batch: elasticsearch_documents_sync_task.delay(batch))


@handles(catalog_events.PRODUCT_CREATED, catalog_events.PRODUCT_UPDATED, catalog_events.PRODUCT_ARCHIVED)
def product_changed_rebuild_document(event: OutboxEvent) -> None:
    """Re-read the product: indexed while listed, removed once archived, drafted or unpriced. The
    event's facts are not trusted for the decision: a later event may already have been applied."""
    services.document_rebuild(product_id=event.payload["product_id"])
    _elasticsearch_sync([event.payload["product_id"]])


@handles(sellers_events.SELLER_STATUS_CHANGED)
def seller_status_changed_rebuild_documents(event: OutboxEvent) -> None:
    services.documents_rebuild_for_seller(seller_id=event.payload["seller_id"])
    if getattr(settings, "SEARCH_BACKEND", "postgres") == "elasticsearch":
        seller_products = Product.objects.filter(seller_id=event.payload["seller_id"]).order_by("id")
        _elasticsearch_sync(list(seller_products.values_list("id", flat=True)))


@handles(STOCK_CHANGED)
def stock_changed_refresh_in_stock(event: OutboxEvent) -> None:
    services.document_stock_refresh(variant_id=event.payload["variant_id"])
    if getattr(settings, "SEARCH_BACKEND", "postgres") == "elasticsearch":
        variants = Variant.objects.filter(pk=event.payload["variant_id"])
        _elasticsearch_sync(list(variants.values_list("product_id", flat=True)))


# reviews.events (reviews sits below search):
# reviews.product_rating_changed {product_id, average (null without reviews), count, ...}
# reviews.seller_rating_changed {seller_id, rating (null while unrated), review_count, fulfilment_days, ...}
PRODUCT_RATING_CHANGED = reviews_events.PRODUCT_RATING_CHANGED
SELLER_RATING_CHANGED = reviews_events.SELLER_RATING_CHANGED


def _rating(value: Any) -> Decimal:
    """A 0-5 rating from an event's payload (a Decimal arrives as a string; null: not rated, 0), to
    two places."""
    if value is None:
        return Decimal("0.00")
    try:
        rating = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"not a rating: {value!r}") from None
    if not rating.is_finite():
        raise ValueError(f"not a rating: {value!r}")
    return min(max(rating, Decimal(0)), Decimal(5)).quantize(Decimal("0.01"))


@handles(PRODUCT_RATING_CHANGED)
def product_rating_changed_update_document(event: OutboxEvent) -> None:
    payload = event.payload
    applied = services.product_rating_apply(
        product_id=int(payload["product_id"]),
        average=_rating(payload["average"]),
        count=max(int(payload.get("count") or 0), 0),
        as_of=event.created_at,
    )
    if applied:
        _elasticsearch_sync([int(payload["product_id"])])


@handles(SELLER_RATING_CHANGED)
def seller_rating_changed_update_documents(event: OutboxEvent) -> None:
    payload = event.payload
    days = payload.get("fulfilment_days")
    applied = services.seller_rating_apply(
        seller_id=int(payload["seller_id"]),
        rating=_rating(payload["rating"]),
        review_count=max(int(payload.get("review_count") or 0), 0),
        fulfilment_days=float(days) if days is not None else None,
        as_of=event.created_at,
    )
    if applied and getattr(settings, "SEARCH_BACKEND", "postgres") == "elasticsearch":
        seller_products = Product.objects.filter(seller_id=payload["seller_id"]).order_by("id")
        _elasticsearch_sync(list(seller_products.values_list("id", flat=True)))
