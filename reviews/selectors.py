"""Read queries of reviews: a product's rating, a page of its published reviews, a user's own review.

What pages cache comes back as plain data (dicts, lists, strings, Decimals). Each function is one
query, whatever the number of reviews: a page of reviews carries its photos (an array subquery)
and its seller reply (a join).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.core.files.storage import default_storage
from django.db.models import OuterRef, QuerySet

from reviews.models import STARS, ProductRating, Review, ReviewPhoto, SellerRating

PHOTO_RENDITIONS = ("thumbnail", "large")  # the strip under a review, and the full view it links to


def _summary(rating: ProductRating | None) -> dict[str, Any]:
    histogram = rating.histogram() if rating is not None else dict.fromkeys(STARS, 0)
    count = rating.count if rating is not None else 0
    return {
        "average": rating.average if rating is not None else None,
        "count": count,
        # 5 stars first, as shoppers read a histogram; percent rounded for the bars' labels
        "histogram": [
            {
                "stars": stars,
                "count": histogram[stars],
                "percent": round(100 * histogram[stars] / count) if count else 0,
            }
            for stars in sorted(STARS, reverse=True)
        ],
    }


def product_rating(*, product_id: int) -> dict[str, Any]:
    """``{average (Decimal or None), count, histogram: [{stars, count, percent}] (5 down to 1)}``:
    the stored aggregate, one query; never a count over the reviews."""
    return _summary(ProductRating.objects.filter(pk=product_id).first())


def product_ratings(*, product_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """``{product_id: {average, count}}`` for many products (missing ones have no reviews)."""
    rows = ProductRating.objects.filter(pk__in=list(product_ids)).values_list("product_id", "average", "count")
    return {product_id: {"average": average, "count": count} for product_id, average, count in rows}


def published_reviews(*, product_id: int) -> QuerySet[Review]:
    """A product's published reviews in the order buyers see them: verified purchases first, then
    the most helpful, then the newest (the partial index ``review_product_order_idx``)."""
    return Review.objects.filter(product_id=product_id, status=Review.Status.PUBLISHED).order_by(
        "-verified_purchase", "-helpful_count", "-created_at", "-id"
    )


def _photo_urls(renditions_list: list[dict]) -> list[dict[str, Any]]:
    shown = []
    for renditions in renditions_list or []:
        if not isinstance(renditions, dict) or not set(PHOTO_RENDITIONS) <= renditions.keys():
            continue
        thumbnail, large = renditions["thumbnail"], renditions["large"]
        shown.append(
            {
                "thumbnail": default_storage.url(thumbnail["jpeg"]),
                "thumbnail_webp": default_storage.url(thumbnail["webp"]),
                "width": thumbnail["width"],
                "height": thumbnail["height"],
                "large": default_storage.url(large["jpeg"]),
            }
        )
    return shown


def with_photos_and_reply(reviews: QuerySet[Review]) -> QuerySet[Review]:
    """Reviews with ``photo_renditions`` (ready photos, in order) and ``reply``, in the same query."""
    ready = ReviewPhoto.objects.filter(review=OuterRef("pk"), status=ReviewPhoto.Status.READY).order_by(
        "position", "id"
    )
    return reviews.select_related("reply").annotate(photo_renditions=ArraySubquery(ready.values("renditions")))


def review_data(review: Review) -> dict[str, Any]:
    """What buyers see of a review, as plain data (text unescaped: templates escape it)."""
    reply = getattr(review, "reply", None)
    return {
        "id": review.pk,
        "rating": review.rating,
        "title": review.title,
        "body": review.body,
        "author_name": review.author_name,
        "verified_purchase": review.verified_purchase,
        "helpful_count": review.helpful_count,
        "created_at": review.created_at,
        "edited": review.edited_at is not None,
        "photos": _photo_urls(getattr(review, "photo_renditions", [])),
        "reply": {"body": reply.body, "created_at": reply.created_at} if reply is not None else None,
    }


def product_reviews_page(*, product_id: int, number: int, page_size: int) -> list[dict[str, Any]]:
    """Page ``number`` (from 1) of a product's published reviews as plain data: one query."""
    start = (number - 1) * page_size
    reviews = with_photos_and_reply(published_reviews(product_id=product_id))[start : start + page_size]
    return [review_data(review) for review in reviews]


def review_of_user(*, user_id: int, product_id: int) -> dict[str, Any] | None:
    """The user's own review of a product, whatever its status: ``{id, rating, status,
    status_label}`` or None. One query (the product page asks it for each signed-in visitor)."""
    review = Review.objects.filter(user_id=user_id, product_id=product_id).only("id", "rating", "status").first()
    if review is None:
        return None
    return {
        "id": review.pk,
        "rating": review.rating,
        "status": review.status,
        "status_label": review.get_status_display(),
    }


def review_for_author(*, review_id: int, user_id: int) -> Review | None:
    """The review if this user wrote it, else None (another's review is as good as missing)."""
    return Review.objects.select_related("product").filter(pk=review_id, user_id=user_id).first()


def published_review(*, review_id: int) -> Review | None:
    return Review.objects.select_related("product").filter(pk=review_id, status=Review.Status.PUBLISHED).first()


def seller_rating(*, seller_id: int) -> dict[str, Any]:
    """``{rating, review_count, review_average, fulfilment_days}`` (Decimals or None)."""
    rating = SellerRating.objects.filter(pk=seller_id).first()
    if rating is None:
        return {"rating": None, "review_count": 0, "review_average": None, "fulfilment_days": None}
    return {
        "rating": rating.rating,
        "review_count": rating.review_count,
        "review_average": rating.review_average,
        "fulfilment_days": rating.fulfilment_days,
    }


def average_label(average: Decimal | None) -> str:
    """ "4.3" for display (one decimal, as shoppers read ratings)."""
    return "" if average is None else f"{average:.1f}"
