"""Coupons in the admins: every coupon and every use for staff (/admin/); on the seller site
(/seller/, sellers.admin_site) a seller's own coupons, which discount only its own products.

Uses are counted by promotions.services (checkouts reserve, paid orders use, abandoned ones
release): both admins show them and never change them. A coupon that has been used is not deleted
(its uses point at it); it is deactivated instead.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from sellers.admin_site import SellerScopedAdminMixin, seller_admin_site
from shop.core.admin import ReadOnlyAdminMixin

from .models import Coupon, CouponRedemption
from .services import coupon_code_normalize

COUPON_FIELDS = [
    "code",
    "description",
    "kind",
    "value",
    "currency",
    "min_subtotal",
    "starts_at",
    "ends_at",
    "max_uses",
    "max_uses_per_customer",
    "active",
]


class CouponForm(forms.ModelForm):
    """Each rule of the coupon's CHECK constraints as an error next to its field."""

    class Meta:
        model = Coupon
        fields = ["seller", *COUPON_FIELDS]

    def clean_code(self) -> str:
        code = coupon_code_normalize(self.cleaned_data.get("code", ""))
        if not code:
            raise forms.ValidationError("A coupon needs a code.")
        if any(char.isspace() for char in code):
            raise forms.ValidationError("A code has no spaces.")
        return code

    def clean_max_uses(self):
        return self._limit("max_uses")

    def clean_max_uses_per_customer(self):
        return self._limit("max_uses_per_customer")

    def _limit(self, name: str):
        value = self.cleaned_data.get(name)
        if value is not None and value < 1:
            raise forms.ValidationError("At least 1; leave it empty for no limit.")
        return value

    def clean_min_subtotal(self):
        value = self.cleaned_data.get("min_subtotal")
        if value is not None and value < 0:
            raise forms.ValidationError("The minimum subtotal cannot be negative.")
        return value

    def clean(self):
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if kind and value is not None:
            if kind == Coupon.Kind.PERCENT and not 0 < value <= 100:
                self.add_error("value", "A percentage is more than 0 and at most 100.")
            elif kind == Coupon.Kind.FIXED and value <= 0:
                self.add_error("value", "The amount off is more than 0.")
            elif kind == Coupon.Kind.FREE_SHIPPING and value != 0:
                self.add_error("value", "Free shipping has no value: enter 0.")
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "A coupon ends after it starts.")
        return cleaned


class _CouponAdminBase(admin.ModelAdmin):
    form = CouponForm
    list_display = ["code", "kind", "value", "currency", "min_subtotal", "uses", "max_uses", "active", "ends_at"]
    list_filter = ["active", "kind"]
    search_fields = ["code", "description"]
    readonly_fields = ["uses", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.uses:
            # buyers hold or have used this code under these terms
            readonly += ["code", "kind", "currency"]
        return readonly


@admin.register(Coupon)
class CouponAdmin(_CouponAdminBase):
    list_display = [*_CouponAdminBase.list_display, "seller"]
    list_filter = [*_CouponAdminBase.list_filter, "seller"]
    list_select_related = ["seller"]
    autocomplete_fields = ["seller"]
    fieldsets = [
        (None, {"fields": ["code", "description", "seller", "active"]}),
        ("Discount", {"fields": ["kind", "value", "currency", "min_subtotal"]}),
        ("Validity and limits", {"fields": ["starts_at", "ends_at", "max_uses", "max_uses_per_customer", "uses"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or not obj.redemptions.exists())


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "coupon", "reference", "user", "status", "discount_total", "currency"]
    list_filter = ["status"]
    search_fields = ["coupon__code", "reference", "user__email"]
    list_select_related = ["coupon", "user"]
    readonly_fields = [
        "coupon",
        "user",
        "reference",
        "status",
        "discount_total",
        "currency",
        "quote",
        "created_at",
        "updated_at",
    ]
    show_full_result_count = False


# --- the seller site: the seller's own coupons --------------------------------------------------


@admin.register(Coupon, site=seller_admin_site)
class SellerCouponAdmin(SellerScopedAdminMixin, _CouponAdminBase):
    """A seller's coupons apply to its own products only; the seller is set from the signed-in
    seller and is not a field. Not deleted: switched off with "active"."""

    seller_field = "seller"
    seller_can_delete = False
    fieldsets = [
        (
            None,
            {
                "fields": ["code", "description", "active"],
                "description": "Your coupons discount your products only. Codes are shared by the whole shop.",
            },
        ),
        ("Discount", {"fields": ["kind", "value", "currency", "min_subtotal"]}),
        ("Validity and limits", {"fields": ["starts_at", "ends_at", "max_uses", "max_uses_per_customer", "uses"]}),
    ]
    readonly_fields = ["uses"]
