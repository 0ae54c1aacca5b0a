"""Reviews in the admins: moderation for staff (/admin/: hide, restore, publish held reviews, see
reports), and each seller's reviews of its own products on the seller site (/seller/), where it
posts its one public reply.

Every change goes through reviews.services, so the product's rating stays exact and the pages that
show the review are told (outbox events). The review's own fields are read-only in both admins:
staff moderate, they do not rewrite what a buyer said.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from reviews import moderation, services
from reviews.models import REPLY_MAX_LENGTH, ProductRating, Review, ReviewPhoto, ReviewReply, ReviewReport, SellerRating
from sellers.admin_site import SellerScopedAdminMixin, seller_admin_site
from shop.core.admin import ReadOnlyAdminMixin

REVIEW_FIELDS = ("product", "rating", "title", "body", "author_name", "verified_purchase", "created_at", "edited_at")


class ReviewReportInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReviewReport
    fields = ("user", "reason", "created_at")
    readonly_fields = fields
    extra = 0


class ReviewPhotoInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReviewPhoto
    fields = ("original", "status", "position")
    readonly_fields = fields
    extra = 0


class ReviewReplyInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = ReviewReply
    fields = ("seller", "body", "created_at")
    readonly_fields = fields
    extra = 0


def _moderation_action(service, done: str):
    def action(modeladmin, request: HttpRequest, queryset: QuerySet[Review]) -> None:
        changed = refused = 0
        for review_id in queryset.values_list("pk", flat=True):
            try:
                service(review_id=review_id)
                changed += 1
            except (services.ReviewConflict, Review.DoesNotExist):
                refused += 1
        modeladmin.message_user(request, f"{changed} review(s) {done}.", messages.SUCCESS)
        if refused:
            modeladmin.message_user(request, f"{refused} review(s) could not be {done}.", messages.WARNING)

    return action


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("__str__", "product", "author_name", "status", "verified_purchase", "helpful_count",
                    "report_count", "created_at")  # fmt: skip
    list_filter = ("status", "verified_purchase", "rating")
    search_fields = ("title", "body", "product__title", "user__email")
    readonly_fields = (*REVIEW_FIELDS, "user", "status", "moderation_reason", "helpful_count", "report_count")
    fields = readonly_fields
    list_select_related = ("product",)
    inlines = [ReviewReplyInline, ReviewPhotoInline, ReviewReportInline]
    actions = ["hide", "restore", "publish"]
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # buyers write reviews

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # hide instead: a deletion here would bypass the rating's bookkeeping

    @admin.action(description="Hide the selected reviews (they leave the page and the rating)")
    def hide(self, request, queryset):
        _moderation_action(services.review_hide, "hidden")(self, request, queryset)

    @admin.action(description="Restore the selected hidden reviews")
    def restore(self, request, queryset):
        _moderation_action(services.review_restore, "restored")(self, request, queryset)

    @admin.action(description="Publish the selected held reviews")
    def publish(self, request, queryset):
        _moderation_action(services.review_publish, "published")(self, request, queryset)


@admin.register(ProductRating)
class ProductRatingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("product", "average", "count", "stars_5", "stars_4", "stars_3", "stars_2", "stars_1")
    list_select_related = ("product",)


@admin.register(SellerRating)
class SellerRatingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("seller", "rating", "review_count", "review_average", "fulfilment_days", "updated_at")
    list_select_related = ("seller",)


# --- the seller site ------------------------------------------------------------------------------


class SellerReplyForm(forms.ModelForm):
    """The seller's reply, the one field a seller fills in on a review."""

    reply = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One public reply, shown under the review. It cannot be changed once posted.",
    )

    class Meta:
        model = Review
        fields: list[str] = []

    def clean_reply(self) -> str:
        body = self.cleaned_data.get("reply", "").strip()
        if len(body) > REPLY_MAX_LENGTH:
            raise ValidationError(f"At most {REPLY_MAX_LENGTH:,} characters.")
        if body and (reason := moderation.hold_reason(body)):
            raise ValidationError(f"A reply cannot be published: it {reason}.")
        return body


@admin.register(Review, site=seller_admin_site)
class SellerReviewAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    """The published reviews of the seller's products, to read and to answer once."""

    seller_field = "product__seller"
    seller_can_add = False
    seller_can_delete = False
    form = SellerReplyForm
    list_display = ("__str__", "product", "author_name", "verified_purchase", "helpful_count", "replied", "created_at")
    list_filter = ("rating", "verified_purchase")
    search_fields = ("title", "body", "product__title")
    readonly_fields = (*REVIEW_FIELDS, "existing_reply")
    list_select_related = ("product", "reply")
    ordering = ("-created_at",)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(status=Review.Status.PUBLISHED)

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is not None and hasattr(obj, "reply"):
            return [*REVIEW_FIELDS, "existing_reply"]
        return [*REVIEW_FIELDS, "reply"]

    @admin.display(boolean=True, description="Replied")
    def replied(self, obj: Review) -> bool:
        return hasattr(obj, "reply")

    @admin.display(description="Your reply")
    def existing_reply(self, obj: Review) -> str:
        return obj.reply.body if hasattr(obj, "reply") else ""

    def save_model(self, request: HttpRequest, obj: Review, form, change: bool) -> None:
        body = form.cleaned_data.get("reply", "").strip()
        if not body:
            return
        try:
            services.review_reply_create(review_id=obj.pk, seller=self.get_seller(request), body=body)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        except (services.ReviewConflict, services.ReviewNotAllowed) as exc:
            self.message_user(request, str(exc), messages.ERROR)
