"""Outbox handlers of the storefront: a product or seller change makes the cached fragments that show
it stale (storefront.versions), so the next visitor gets pages built from the new state."""

from __future__ import annotations

from catalog import events as catalog_events
from catalog import selectors as catalog_selectors
from reviews import events as reviews_events
from sellers import events as sellers_events
from shop.core.events import handles
from shop.core.models import OutboxEvent
from storefront import versions


@handles(catalog_events.PRODUCT_CREATED, catalog_events.PRODUCT_UPDATED, catalog_events.PRODUCT_ARCHIVED)
def product_changed_bump_versions(event: OutboxEvent) -> None:
    """The product's page, its seller's listing, the home page's new arrivals, and the listings of its
    category and every ancestor (a category page lists its whole subtree)."""
    payload = event.payload
    scopes = [versions.RECENT, versions.product_scope(payload["slug"]), versions.seller_scope(payload["seller_id"])]
    # A product moved to another category leaves the old one's listing too, when the event says
    # where it came from.
    for key in ("category_id", "previous_category_id"):
        if payload.get(key):
            scopes += [versions.category_scope(path) for path in catalog_selectors.category_lineage_paths(payload[key])]
    versions.bump(scopes)


@handles(sellers_events.SELLER_STATUS_CHANGED)
def seller_status_changed_bump_versions(event: OutboxEvent) -> None:
    """A seller approved, suspended or reinstated adds or removes products in every listing."""
    versions.bump([versions.ALL, versions.seller_scope(event.payload["seller_id"])])


@handles(reviews_events.REVIEW_CHANGED)
def review_changed_bump_versions(event: OutboxEvent) -> None:
    """A review written, edited, deleted, moderated, voted on or answered: the product's page (its
    rating, its list of reviews) and the product API's rating. Listings do not show ratings yet."""
    versions.bump([versions.reviews_scope(event.payload["slug"])])
