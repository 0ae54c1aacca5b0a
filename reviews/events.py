"""Events the reviews app publishes on the outbox (shop.core.events).

- ``reviews.review_changed`` ``{review_id, product_id, slug, seller_id, change}``: what buyers see of a
  product's reviews changed (``change``: created, updated, deleted, hidden, restored, published,
  held, replied, voted, photo). The storefront makes the product's cached page stale.
- ``reviews.product_rating_changed`` ``{product_id, slug, seller_id, average, count, histogram}``: the
  product's aggregate rating changed (``average`` a decimal string, null without reviews;
  ``histogram`` ``{"1": n, ..., "5": n}``). Search updates the product's document.
- ``reviews.seller_rating_changed`` ``{seller_id, rating, review_count, review_average,
  fulfilment_days}``: the seller's rating changed (decimal strings or null). Search ranking uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reviews.models import ProductRating, SellerRating

REVIEW_CHANGED = "reviews.review_changed"
PRODUCT_RATING_CHANGED = "reviews.product_rating_changed"
SELLER_RATING_CHANGED = "reviews.seller_rating_changed"


def review_payload(*, review_id: int, product_id: int, slug: str, seller_id: int, change: str) -> dict[str, Any]:
    return {"review_id": review_id, "product_id": product_id, "slug": slug, "seller_id": seller_id, "change": change}


def product_rating_payload(rating: ProductRating, *, slug: str, seller_id: int) -> dict[str, Any]:
    return {
        "product_id": rating.product_id,
        "slug": slug,
        "seller_id": seller_id,
        "average": rating.average,
        "count": rating.count,
        "histogram": {str(stars): n for stars, n in rating.histogram().items()},
    }


def seller_rating_payload(rating: SellerRating) -> dict[str, Any]:
    return {
        "seller_id": rating.seller_id,
        "rating": rating.rating,
        "review_count": rating.review_count,
        "review_average": rating.review_average,
        "fulfilment_days": rating.fulfilment_days,
    }
