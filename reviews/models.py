"""Reviews of products by buyers, their photos, helpful votes, abuse reports and seller replies, and
the aggregate ratings kept from them (per product, exact; per seller, derived).

``ProductRating`` is maintained incrementally by ``reviews.services`` in the transaction of every
change that adds or removes a published review's stars, under the row's lock; its CHECK constraints
make a histogram that does not add up impossible to store. ``manage.py reviews_recompute`` recounts
from the reviews and reports any drift.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

TITLE_MAX_LENGTH = 120
BODY_MAX_LENGTH = 5_000  # a long, careful review is 2,000 characters; beyond 5,000 it is pasted text
REPLY_MAX_LENGTH = 2_000
REPORT_REASON_MAX_LENGTH = 500
STARS = (1, 2, 3, 4, 5)


class Review(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        PENDING = "pending", "Held for moderation"  # the content filter held it, or buyers reported it
        HIDDEN = "hidden", "Hidden by staff"

    # PROTECT: a review leaves only through reviews.services (which keeps the aggregates exact);
    # products are archived, not deleted, and accounts are deactivated.
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="reviews")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=TITLE_MAX_LENGTH, blank=True)
    body = models.CharField(max_length=BODY_MAX_LENGTH, blank=True)  # varchar: the database bounds it too
    # Shown instead of the email address: "Ada L." (set when the review is written).
    author_name = models.CharField(max_length=80)
    verified_purchase = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    moderation_reason = models.CharField(max_length=200, blank=True)  # why it was held, for staff
    helpful_count = models.PositiveIntegerField(default=0)  # kept with HelpfulVote rows, in one transaction
    report_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    edited_at = models.DateTimeField(null=True, blank=True)  # the author changed it after writing it

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "user"], name="review_one_per_buyer_per_product"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
            models.CheckConstraint(
                condition=Q(status__in=["published", "pending", "hidden"]), name="review_status_known"
            ),
        ]
        indexes = [
            # the product page and API: published reviews, verified first, then most helpful, newest
            models.Index(
                F("product"),
                F("verified_purchase").desc(),
                F("helpful_count").desc(),
                F("created_at").desc(),
                F("id").desc(),
                name="review_product_order_idx",
                condition=Q(status="published"),
            ),
            models.Index(fields=["status", "-created_at"], name="review_moderation_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.title or '(no title)'}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class ReviewPhoto(models.Model):
    """A buyer's photo of the product, processed into renditions like product images (catalog)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="photos")
    original = models.ImageField(upload_to="reviews/originals/%Y/%m/", width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # as catalog.ProductImage.renditions: {"thumbnail": {"webp", "jpeg", "width", "height"}, ...}
    renditions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.original.name


class ReviewReply(models.Model):
    """The seller's one public answer to a review of its product."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, primary_key=True, related_name="reply")
    seller = models.ForeignKey("sellers.Seller", on_delete=models.CASCADE, related_name="review_replies")
    body = models.CharField(max_length=REPLY_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "review replies"

    def __str__(self) -> str:
        return self.body[:60]


class HelpfulVote(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="helpful_votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "user"], name="helpful_vote_one_per_user")]

    def __str__(self) -> str:
        return f"helpful: review {self.review_id}"


class ReviewReport(models.Model):
    """A buyer's report that a review is abusive, for staff to look at (one per user per review)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="reports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=REPORT_REASON_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "user"], name="review_report_one_per_user")]

    def __str__(self) -> str:
        return self.reason[:60]


class ProductRating(models.Model):
    """The stars of a product's published reviews: count, sum and histogram, and the average.

    Written only under ``SELECT ... FOR UPDATE`` of this row (reviews.services). The constraints
    tie the count and the sum to the histogram, so a lost update cannot leave them disagreeing.
    """

    product = models.OneToOneField("catalog.Product", on_delete=models.CASCADE, primary_key=True, related_name="+")
    count = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)  # the sum of the stars
    stars_1 = models.PositiveIntegerField(default=0)
    stars_2 = models.PositiveIntegerField(default=0)
    stars_3 = models.PositiveIntegerField(default=0)
    stars_4 = models.PositiveIntegerField(default=0)
    stars_5 = models.PositiveIntegerField(default=0)
    average = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)  # null: no reviews
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(count=F("stars_1") + F("stars_2") + F("stars_3") + F("stars_4") + F("stars_5")),
                name="product_rating_count_is_histogram",
            ),
            models.CheckConstraint(
                condition=Q(
                    total=F("stars_1") + 2 * F("stars_2") + 3 * F("stars_3") + 4 * F("stars_4") + 5 * F("stars_5")
                ),
                name="product_rating_total_is_histogram",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.average or '-'} ({self.count})"

    def histogram(self) -> dict[int, int]:
        return {stars: getattr(self, f"stars_{stars}") for stars in STARS}


class SellerRating(models.Model):
    """A seller's rating: its products' published reviews, blended with how fast it ships
    (reviews.services.seller_rating_refresh). Derived; refreshed after changes and nightly."""

    seller = models.OneToOneField("sellers.Seller", on_delete=models.CASCADE, primary_key=True, related_name="+")
    review_count = models.PositiveIntegerField(default=0)
    review_average = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    fulfilment_days = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    rating = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.rating or '-'} ({self.review_count})"
