"""Outbox handlers that keep the search index current (shop.core.events): a product change is
searchable as soon as its event is relayed, a seller's suspension hides its whole range."""

from __future__ import annotations

from catalog import events as catalog_events
from inventory.events import STOCK_CHANGED
from search import services
from sellers import events as sellers_events
from shop.core.events import handles
from shop.core.models import OutboxEvent


@handles(catalog_events.PRODUCT_CREATED, catalog_events.PRODUCT_UPDATED, catalog_events.PRODUCT_ARCHIVED)
def product_changed_rebuild_document(event: OutboxEvent) -> None:
    """Re-read the product: indexed while listed, removed once archived, drafted or unpriced. The
    event's facts are not trusted for the decision: a later event may already have been applied."""
    services.document_rebuild(product_id=event.payload["product_id"])


@handles(sellers_events.SELLER_STATUS_CHANGED)
def seller_status_changed_rebuild_documents(event: OutboxEvent) -> None:
    services.documents_rebuild_for_seller(seller_id=event.payload["seller_id"])


@handles(STOCK_CHANGED)
def stock_changed_refresh_in_stock(event: OutboxEvent) -> None:
    services.document_stock_refresh(variant_id=event.payload["variant_id"])
