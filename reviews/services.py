"""Commands that change reviews, and the aggregate ratings kept from them.

Who may do what: any signed-in buyer reviews a listed product once (``verified_purchase`` when an
order of theirs with it was delivered, orders.selectors), except the product's own seller; the author
edits and deletes; staff hide, restore and publish held reviews (reviews.admin); buyers vote a review
helpful once and report it once; the product's seller replies once.

Aggregates. Every change that adds or removes a published review's stars updates ``ProductRating``
in the same transaction, holding the row's ``SELECT ... FOR UPDATE`` lock, so concurrent reviews of
one product are applied one after another and the histogram stays exact. A review's own row is
locked before the product's rating row on every path (edit, delete, moderation), so two changes
never wait for each other in opposite orders. ``product_ratings_recompute`` recounts from scratch.
The seller's rating is derived from its products' ratings and its fulfilment speed by a Celery task
after commit (``seller_rating_refresh``), and nightly.

Bad input raises ``ValidationError`` ({field: [messages]}); a second review, vote, report or reply
raises a ``ReviewConflict``; what the user may not do raises ``ReviewNotAllowed``; another user's
review is ``Review.DoesNotExist``, as if it did not exist.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone

from catalog import services as catalog_services
from catalog.models import Product
from orders import selectors as orders_selectors
from reviews import events, moderation, photos
from reviews.models import (
    BODY_MAX_LENGTH,
    REPLY_MAX_LENGTH,
    REPORT_REASON_MAX_LENGTH,
    STARS,
    TITLE_MAX_LENGTH,
    HelpfulVote,
    ProductRating,
    Review,
    ReviewPhoto,
    ReviewReply,
    ReviewReport,
    SellerRating,
)
from sellers.models import Seller
from shop.core.events import publish

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
MAX_PHOTOS = 4  # per review: enough to show a fault or the fit; a gallery belongs on the product
# Independent reports that take a published review down until staff look at it. Three buyers
# agreeing is rarely wrong, and a wrong hold costs a moderator one click (restore).
REPORTS_TO_HOLD = 3
REPORTED = "reported by buyers"
PHOTO_PROCESSING_GRACE = timedelta(minutes=10)  # a photo still pending after this lost its task
PHOTO_PROCESSING_GIVE_UP = timedelta(days=1)  # ... retried this long, not forever
# The seller rating (seller_rating_refresh): reviews pulled towards a neutral prior until a seller
# has a few, so one 5-star review does not outrank a long record of 4.8.
SELLER_PRIOR_MEAN = Decimal("3.5")
SELLER_PRIOR_WEIGHT = 5
# Fulfilment (days from confirmed to shipped) scored 1 to 5: 5 up to two days, half a star off for
# each day later, never below 1.
FAST_SHIPPING_DAYS = Decimal(2)
SCORE_OFF_PER_LATE_DAY = Decimal("0.5")
FULFILMENT_SHARE = Decimal("0.2")  # of the seller rating; the buyers' stars are the rest


class ReviewConflict(Exception):
    """Something that exists once already exists (a review, vote, report, reply), or the review's
    state does not allow the change."""


class ReviewNotAllowed(PermissionDenied):
    """The user may not do this to this review or product."""


# --- input ----------------------------------------------------------------------------------------


def _text(value: Any, *, field: str, max_length: int, errors: dict, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.setdefault(field, []).append("Enter text.")
        return ""
    if "\x00" in value:  # PostgreSQL cannot store it; only a crafted request sends one
        errors.setdefault(field, []).append("This text contains characters that are not allowed.")
        return ""
    value = value.strip()
    if required and not value:
        errors.setdefault(field, []).append("This field is required.")
    if len(value) > max_length:
        errors.setdefault(field, []).append(f"At most {max_length:,} characters (this has {len(value):,}).")
    return value


def _rating(value: Any, errors: dict) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in STARS:
        errors.setdefault("rating", []).append("A rating is a whole number of stars from 1 to 5.")
        return 0
    return value


def _clean(*, rating: Any, title: Any, body: Any) -> tuple[int, str, str]:
    errors: dict[str, list[str]] = {}
    cleaned = (
        _rating(rating, errors),
        _text(title, field="title", max_length=TITLE_MAX_LENGTH, errors=errors),
        _text(body, field="body", max_length=BODY_MAX_LENGTH, errors=errors),
    )
    if errors:
        raise ValidationError(errors)
    return cleaned


def author_name(user) -> str:
    """What a review shows of its author: first name and initial ("Ada L."), never the email."""
    parts = (getattr(user, "full_name", "") or "").split()
    if not parts:
        return "A buyer"
    name = parts[0][:40]
    return f"{name} {parts[-1][0].upper()}." if len(parts) > 1 else name


# --- aggregates -----------------------------------------------------------------------------------


def _average(total: int, count: int) -> Decimal | None:
    return (Decimal(total) / count).quantize(CENT, rounding=ROUND_HALF_UP) if count else None


def _locked_rating(product_id: int) -> ProductRating:
    """The product's rating row, locked (made first if the product has none yet)."""
    rating = ProductRating.objects.select_for_update().filter(pk=product_id).first()
    if rating is None:
        ProductRating.objects.bulk_create([ProductRating(product_id=product_id)], ignore_conflicts=True)
        rating = ProductRating.objects.select_for_update().get(pk=product_id)
    return rating


def _rating_apply(product: Product, *, remove: int | None, add: int | None) -> ProductRating | None:
    """Take one published review's stars out of the product's rating and/or put some in.

    Call inside the transaction of the change, after locking the review's row (if it exists).
    """
    if remove == add:
        return None  # an edit that kept the stars, or a change to a review that is not published
    rating = _locked_rating(product.pk)
    for stars, step in ((remove, -1), (add, +1)):
        if stars:
            field = f"stars_{stars}"
            setattr(rating, field, getattr(rating, field) + step)
            rating.count += step
            rating.total += step * stars
    rating.average = _average(rating.total, rating.count)
    rating.save()
    _rating_changed(rating, product)
    return rating


def _rating_changed(rating: ProductRating, product: Product) -> None:
    publish(
        events.PRODUCT_RATING_CHANGED,
        events.product_rating_payload(rating, slug=product.slug, seller_id=product.seller_id),
    )
    transaction.on_commit(partial(_enqueue_seller_refresh, product.seller_id))


def _enqueue_seller_refresh(seller_id: int) -> None:
    from reviews.tasks import seller_rating_refresh_task  # the task module imports this one

    try:
        seller_rating_refresh_task.delay(seller_id)
    except Exception:  # broker down: the nightly refresh catches up
        logger.warning("reviews: could not enqueue the rating of seller %s", seller_id, exc_info=True)


def _published_stars(review: Review) -> int | None:
    return review.rating if review.status == Review.Status.PUBLISHED else None


def _announce(review: Review, product: Product, change: str) -> None:
    publish(
        events.REVIEW_CHANGED,
        events.review_payload(
            review_id=review.pk, product_id=product.pk, slug=product.slug, seller_id=product.seller_id, change=change
        ),
    )


def _locked_review(review_id: int) -> Review:
    return Review.objects.select_for_update(of=("self",)).select_related("product").get(pk=review_id)


# --- writing, editing, deleting -------------------------------------------------------------------


def review_create(*, user, product: Product, rating: Any, title: Any = "", body: Any = "") -> Review:
    """Write the user's review of a product: published at once, or held when the content filter
    objects (reviews.moderation). ``verified_purchase`` when the user received the product.

    Raises ValidationError (bad input), ReviewNotAllowed (the product is not on sale, or is the
    user's own) and ReviewConflict (the user reviewed it already, also when two requests race).
    """
    stars, title, body = _clean(rating=rating, title=title, body=body)
    seller = product.seller
    if product.status != Product.Status.ACTIVE or seller.status != Seller.Status.APPROVED:
        raise ReviewNotAllowed("This product is not on sale; it cannot be reviewed.")
    if seller.user_id == user.pk:
        raise ReviewNotAllowed("Sellers cannot review their own products.")
    reason = moderation.hold_reason(title, body)
    review = Review(
        product=product,
        user=user,
        rating=stars,
        title=title,
        body=body,
        author_name=author_name(user),
        verified_purchase=orders_selectors.has_received_product(user_id=user.pk, product_id=product.pk),
        status=Review.Status.PENDING if reason else Review.Status.PUBLISHED,
        moderation_reason=reason,
    )
    with transaction.atomic():
        try:
            # a savepoint: a concurrent first review makes this insert wait on the unique index,
            # then fail, and the outer transaction stays usable for the caller
            with transaction.atomic():
                review.save()
        except IntegrityError as exc:
            if "review_one_per_buyer_per_product" in str(exc):
                raise ReviewConflict("You have already reviewed this product. Edit your review instead.") from None
            raise
        _rating_apply(product, remove=None, add=_published_stars(review))
        _announce(review, product, "created")
    return review


def review_update(*, review_id: int, author, rating: Any = None, title: Any = None, body: Any = None) -> Review:
    """The author changes their review (fields left None stay). The content filter runs again: a
    held review that now passes is published, a published one that no longer passes is held. A
    review staff hid, or one held after reports, stays so. Another user's review: Review.DoesNotExist."""
    with transaction.atomic():
        review = _locked_review(review_id)
        if review.user_id != author.pk:
            raise Review.DoesNotExist
        stars, new_title, new_body = _clean(
            rating=review.rating if rating is None else rating,
            title=review.title if title is None else title,
            body=review.body if body is None else body,
        )
        before = _published_stars(review)
        review.rating, review.title, review.body = stars, new_title, new_body
        if review.status != Review.Status.HIDDEN and review.moderation_reason != REPORTED:
            reason = moderation.hold_reason(new_title, new_body)
            review.status = Review.Status.PENDING if reason else Review.Status.PUBLISHED
            review.moderation_reason = reason
        review.edited_at = timezone.now()
        review.save()
        _rating_apply(review.product, remove=before, add=_published_stars(review))
        _announce(review, review.product, "updated")
    return review


def review_delete(*, review_id: int, author) -> None:
    """The author deletes their review (its photos, votes, reports and reply go with it)."""
    with transaction.atomic():
        review = _locked_review(review_id)
        if review.user_id != author.pk:
            raise Review.DoesNotExist
        before = _published_stars(review)
        product = review.product
        _announce(review, product, "deleted")
        review.delete()
        _rating_apply(product, remove=before, add=None)


# --- moderation (staff) ---------------------------------------------------------------------------


def _moderate(review_id: int, *, allowed_from: tuple[str, ...], to: str, change: str, reason: str = "") -> Review:
    with transaction.atomic():
        review = _locked_review(review_id)
        if review.status == to:
            return review  # done already (a double click, two moderators)
        if review.status not in allowed_from:
            raise ReviewConflict(f"A review that is {review.get_status_display().lower()} cannot be {change}.")
        before = _published_stars(review)
        review.status = to
        review.moderation_reason = reason
        review.save(update_fields=["status", "moderation_reason", "updated_at"])
        _rating_apply(review.product, remove=before, add=_published_stars(review))
        _announce(review, review.product, change)
    return review


def review_hide(*, review_id: int) -> Review:
    """Staff take a review down (published or held): it leaves the page and the rating."""
    pending, published = Review.Status.PENDING, Review.Status.PUBLISHED
    return _moderate(review_id, allowed_from=(published, pending), to=Review.Status.HIDDEN, change="hidden")


def review_restore(*, review_id: int) -> Review:
    """Staff put a hidden review back: published, counted in the rating again."""
    hidden, published = Review.Status.HIDDEN, Review.Status.PUBLISHED
    return _moderate(review_id, allowed_from=(hidden,), to=published, change="restored")


def review_publish(*, review_id: int) -> Review:
    """Staff publish a review the filter or buyers' reports held."""
    pending, published = Review.Status.PENDING, Review.Status.PUBLISHED
    return _moderate(review_id, allowed_from=(pending,), to=published, change="published")


# --- helpful votes and reports (buyers) -----------------------------------------------------------


def _published_review(review_id: int) -> Review:
    return Review.objects.select_related("product").get(pk=review_id, status=Review.Status.PUBLISHED)


def review_vote_helpful(*, review_id: int, user) -> Review:
    """One "helpful" vote of a user for a published review (not their own). ReviewConflict the
    second time. Returns the review with its new count."""
    review = _published_review(review_id)
    if review.user_id == user.pk:
        raise ReviewNotAllowed("You cannot vote for your own review.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                HelpfulVote.objects.create(review=review, user=user)
        except IntegrityError:
            raise ReviewConflict("You have already found this review helpful.") from None
        Review.objects.filter(pk=review.pk).update(helpful_count=F("helpful_count") + 1)
        _announce(review, review.product, "voted")
    review.refresh_from_db(fields=["helpful_count"])
    return review


def review_report(*, review_id: int, user, reason: Any) -> ReviewReport:
    """A user reports a published review as abusive, once. The third report holds it for staff."""
    errors: dict[str, list[str]] = {}
    reason = _text(reason, field="reason", max_length=REPORT_REASON_MAX_LENGTH, errors=errors, required=True)
    if errors:
        raise ValidationError(errors)
    review = _published_review(review_id)
    if review.user_id == user.pk:
        raise ReviewNotAllowed("You cannot report your own review; edit or delete it instead.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                report = ReviewReport.objects.create(review=review, user=user, reason=reason)
        except IntegrityError:
            raise ReviewConflict("You have already reported this review; staff will look at it.") from None
        locked = _locked_review(review.pk)
        locked.report_count += 1
        locked.save(update_fields=["report_count", "updated_at"])
        if locked.report_count >= REPORTS_TO_HOLD and locked.status == Review.Status.PUBLISHED:
            locked.status, locked.moderation_reason = Review.Status.PENDING, REPORTED
            locked.save(update_fields=["status", "moderation_reason", "updated_at"])
            _rating_apply(locked.product, remove=locked.rating, add=None)
            _announce(locked, locked.product, "held")
    return report


# --- seller replies -------------------------------------------------------------------------------


def review_reply_create(*, review_id: int, seller: Seller, body: Any) -> ReviewReply:
    """The seller's one public reply to a published review of one of its products. Another
    seller's review (or one buyers cannot see) is Review.DoesNotExist; a second reply ReviewConflict."""
    errors: dict[str, list[str]] = {}
    body = _text(body, field="body", max_length=REPLY_MAX_LENGTH, errors=errors, required=True)
    if not errors and (reason := moderation.hold_reason(body)):
        errors["body"] = [f"A reply cannot be published: it {reason}."]
    if errors:
        raise ValidationError(errors)
    review = Review.objects.select_related("product").get(
        pk=review_id, product__seller=seller, status=Review.Status.PUBLISHED
    )
    if seller.status != Seller.Status.APPROVED:
        raise ReviewNotAllowed("Your store cannot reply to reviews while it is not approved.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                reply = ReviewReply.objects.create(review=review, seller=seller, body=body)
        except IntegrityError:
            raise ReviewConflict("You have already replied to this review.") from None
        _announce(review, review.product, "replied")
    return reply


# --- photos ---------------------------------------------------------------------------------------


def review_photo_add(*, review_id: int, author, upload) -> ReviewPhoto:
    """Attach a photo to the author's review; its renditions are made by a Celery task after commit.
    Anything but a JPEG, PNG, WebP or GIF of sensible size is refused (ValidationError on ``image``)."""
    try:
        image_format = photos.validate_photo_upload(upload)
    except ValidationError as exc:
        raise ValidationError({"image": exc.messages}) from None
    with transaction.atomic():
        review = _locked_review(review_id)
        if review.user_id != author.pk:
            raise Review.DoesNotExist
        stored = ReviewPhoto.objects.filter(review=review)
        if stored.count() >= MAX_PHOTOS:
            raise ValidationError({"image": [f"A review has at most {MAX_PHOTOS} photos."]})
        last = stored.aggregate(last=Max("position"))["last"]
        photo = ReviewPhoto(review=review, position=0 if last is None else last + 1)
        # a random name: the original's URL reveals nothing and cannot be guessed
        photo.original.save(f"{uuid.uuid4().hex}.{photos.EXTENSIONS[image_format]}", upload, save=False)
        photo.save()
        transaction.on_commit(partial(_enqueue_photo, photo.pk))
    return photo


def _enqueue_photo(photo_id: int) -> None:
    from reviews.tasks import review_photo_process_task

    try:
        review_photo_process_task.delay(photo_id)
    except Exception:  # broker down: the periodic sweep enqueues it again
        logger.warning("reviews: could not enqueue photo %s; the sweep will retry", photo_id, exc_info=True)


def review_photo_process(*, photo_id: int) -> ReviewPhoto | None:
    """Make a photo's renditions (the catalog's pipeline) and show it. Idempotent; a photo Pillow
    cannot read is marked failed. The image work runs outside any transaction."""
    photo = ReviewPhoto.objects.filter(pk=photo_id).first()
    if photo is None or photo.status != ReviewPhoto.Status.PENDING:
        return photo
    try:
        with photo.original.open("rb") as original:
            original_bytes = original.read()
        renditions = catalog_services.image_renditions_make(original=original_bytes, prefix=f"reviews/r/{photo.pk}")
        status = ReviewPhoto.Status.READY
    except (FileNotFoundError, ValidationError) as exc:
        logger.error("reviews: photo %s could not be processed: %s", photo_id, exc)
        renditions, status = {}, ReviewPhoto.Status.FAILED
    with transaction.atomic():
        locked = ReviewPhoto.objects.select_for_update().filter(pk=photo_id).first()
        if locked is None or locked.status != ReviewPhoto.Status.PENDING:
            return locked
        locked.renditions, locked.status = renditions, status
        locked.save(update_fields=["renditions", "status"])
        if status == ReviewPhoto.Status.READY:
            review = Review.objects.select_related("product").get(pk=locked.review_id)
            _announce(review, review.product, "photo")
    return locked


def review_photos_process_pending() -> int:
    """Enqueue again the photos left pending for over ten minutes (a lost task). Returns how many."""
    now = timezone.now()
    stale = ReviewPhoto.objects.filter(
        status=ReviewPhoto.Status.PENDING,
        created_at__lte=now - PHOTO_PROCESSING_GRACE,
        created_at__gte=now - PHOTO_PROCESSING_GIVE_UP,
    )
    ids = list(stale.values_list("pk", flat=True))
    for photo_id in ids:
        _enqueue_photo(photo_id)
    return len(ids)


# --- recomputing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    product_id: int
    stored: dict[int, int]  # the histogram that was stored
    actual: dict[int, int]  # the histogram recounted from the published reviews


def _histograms(product_ids: list[int] | None = None) -> dict[int, dict[int, int]]:
    """Histograms recounted from the published reviews, by product id."""
    reviews = Review.objects.filter(status=Review.Status.PUBLISHED)
    if product_ids is not None:
        reviews = reviews.filter(product_id__in=product_ids)
    counts = {f"s{stars}": Count("id", filter=Q(rating=stars)) for stars in STARS}
    rows = reviews.order_by().values("product_id").annotate(**counts)
    return {row["product_id"]: {stars: row[f"s{stars}"] for stars in STARS} for row in rows}


def product_ratings_recompute(*, fix: bool = True) -> list[Drift]:
    """Recount every product's rating from its published reviews and report where the stored
    aggregate differs; with ``fix``, correct it (under the row's lock, recounted again there, so a
    change committed meanwhile is neither lost nor counted twice) and announce the new rating."""
    actual = _histograms()
    stored = {rating.product_id: rating.histogram() for rating in ProductRating.objects.all()}
    empty = dict.fromkeys(STARS, 0)
    drifted = []
    for product_id in sorted(actual.keys() | stored.keys()):
        stored_histogram, actual_histogram = stored.get(product_id, empty), actual.get(product_id, empty)
        if stored_histogram == actual_histogram:
            continue
        drifted.append(Drift(product_id, stored_histogram, actual_histogram))
        if fix:
            _rating_reset(product_id)
    return drifted


def _rating_reset(product_id: int) -> None:
    with transaction.atomic():
        rating = _locked_rating(product_id)
        histogram = _histograms([product_id]).get(product_id, dict.fromkeys(STARS, 0))
        for stars, n in histogram.items():
            setattr(rating, f"stars_{stars}", n)
        rating.count = sum(histogram.values())
        rating.total = sum(stars * n for stars, n in histogram.items())
        rating.average = _average(rating.total, rating.count)
        rating.save()
        _rating_changed(rating, Product.objects.get(pk=product_id))


# --- the seller's rating --------------------------------------------------------------------------


def _seller_score(*, count: int, total: int, fulfilment_days: Decimal | None) -> Decimal | None:
    if not count:
        return None  # no buyer has said anything yet: speed alone is not a rating
    reviews = (SELLER_PRIOR_MEAN * SELLER_PRIOR_WEIGHT + total) / (SELLER_PRIOR_WEIGHT + count)
    if fulfilment_days is None:
        return reviews.quantize(CENT, rounding=ROUND_HALF_UP)
    late_days = max(fulfilment_days - FAST_SHIPPING_DAYS, Decimal(0))
    speed = min(max(Decimal(5) - late_days * SCORE_OFF_PER_LATE_DAY, Decimal(1)), Decimal(5))
    blended = reviews * (1 - FULFILMENT_SHARE) + speed * FULFILMENT_SHARE
    return blended.quantize(CENT, rounding=ROUND_HALF_UP)


def seller_rating_refresh(*, seller_id: int) -> SellerRating:
    """Recompute a seller's rating from its products' ratings and its fulfilment speed
    (orders.selectors.seller_fulfilment_days); announce it when it changed."""
    days = orders_selectors.seller_fulfilment_days(seller_id=seller_id)
    days = None if days is None else Decimal(str(days)).quantize(CENT, rounding=ROUND_HALF_UP)
    with transaction.atomic():
        rating = SellerRating.objects.select_for_update().filter(pk=seller_id).first()
        if rating is None:
            SellerRating.objects.bulk_create([SellerRating(seller_id=seller_id)], ignore_conflicts=True)
            rating = SellerRating.objects.select_for_update().get(pk=seller_id)
        sums = ProductRating.objects.filter(product__seller_id=seller_id).aggregate(
            count=Sum("count"), total=Sum("total")
        )
        count, total = sums["count"] or 0, sums["total"] or 0
        new = (count, _average(total, count), days, _seller_score(count=count, total=total, fulfilment_days=days))
        if new != (rating.review_count, rating.review_average, rating.fulfilment_days, rating.rating):
            rating.review_count, rating.review_average, rating.fulfilment_days, rating.rating = new
            rating.save()
            publish(events.SELLER_RATING_CHANGED, events.seller_rating_payload(rating))
    return rating


def seller_ratings_refresh_all() -> int:
    """Refresh every seller that has sold or been reviewed (nightly: fulfilment speed drifts as
    orders ship, without any review changing). Returns how many sellers were looked at."""
    seller_ids = set(Seller.objects.filter(status=Seller.Status.APPROVED).values_list("pk", flat=True))
    seller_ids |= set(SellerRating.objects.values_list("seller_id", flat=True))
    for seller_id in sorted(seller_ids):
        seller_rating_refresh(seller_id=seller_id)
    return len(seller_ids)
