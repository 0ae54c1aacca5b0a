"""Events the catalog publishes on the outbox (shop.core.events), for search, caches and feeds.

Every product event carries the same payload, ``product_payload``: ids and the facts a handler needs
to decide whether to care; a handler reads anything more through ``catalog.selectors``.

- ``catalog.product_created``: a product was created (in any status, drafts too).
- ``catalog.product_updated``: a product, one of its variants or images changed, or its status did.
- ``catalog.product_archived``: a product became archived (published after its ``product_updated``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catalog.models import Product

PRODUCT_CREATED = "catalog.product_created"
PRODUCT_UPDATED = "catalog.product_updated"
PRODUCT_ARCHIVED = "catalog.product_archived"


def product_payload(product: Product) -> dict[str, Any]:
    return {
        "product_id": product.pk,
        "slug": product.slug,
        "seller_id": product.seller_id,
        "category_id": product.category_id,
        "status": product.status,
    }
