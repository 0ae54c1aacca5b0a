"""Stock in the admins. Staff see every SKU and its movements; a seller sees and sets the stock of
its own SKUs on the seller site. ``on_hand`` changes through inventory.services.stock_set, as in the
seller API: under a row lock, with a StockMovement carrying the reason the editor gives, never below
what is reserved for checkouts.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import F, QuerySet

from sellers.admin_site import SellerScopedAdminMixin, SellerScopedInlineMixin, seller_admin_site
from shop.core.admin import ReadOnlyAdminMixin

from . import services
from .models import Reservation, ReservationLine, Stock, StockMovement

REASON_MAX_LENGTH = services.REASON_MAX_LENGTH


class StockForm(forms.ModelForm):
    """``on_hand`` with the reason for changing it; reserved units come from checkouts only."""

    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text="Why the number changes: “delivery from supplier”, “stock count”, “damaged”.",
    )

    class Meta:
        model = Stock
        fields = ["variant", "on_hand", "low_stock_threshold"]

    def clean_on_hand(self) -> int:
        on_hand = self.cleaned_data["on_hand"]
        if not 0 <= on_hand <= services.MAX_ON_HAND:
            raise forms.ValidationError(f"Enter a whole number from 0 to {services.MAX_ON_HAND:,}.")
        if self.instance.pk and on_hand < self.instance.reserved:
            raise forms.ValidationError(
                f"{self.instance.reserved} units are reserved for checkouts; on hand cannot go below that."
            )
        return on_hand

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and "on_hand" in self.changed_data and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Say why the stock changes; it is kept in the stock's history.")
        return cleaned


class _StockEditing:
    """What the staff and seller stock admins share: saving goes through inventory.services.stock_set."""

    form = StockForm
    readonly_fields = ["sku", "reserved", "available", "flash_sale", "updated_at"]

    @admin.display(description="available")
    def available(self, obj: Stock) -> int | str:
        return obj.available if obj.pk else "-"

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "variant"] if obj is not None else readonly  # a stock row stays with its SKU

    def save_model(self, request, obj: Stock, form, change: bool) -> None:
        # The form has checked the numbers; stock_set writes them with their movement (and creates
        # the row on the add page). The threshold is not stock_set's: it is saved on its own.
        reason = (form.cleaned_data.get("reason") or "").strip()
        if not reason:
            reason = services.DEFAULT_SET_REASON if change else "initial stock"
        try:
            stock = services.stock_set(variant=obj.variant, on_hand=obj.on_hand, actor=request.user, reason=reason)
        except services.StockConflict as exc:  # a checkout reserved units since the form was checked
            self.message_user(request, f"On hand was not changed: {exc}", messages.ERROR)
            stock = Stock.objects.get(variant=obj.variant)
        Stock.objects.filter(pk=stock.pk).update(low_stock_threshold=obj.low_stock_threshold)
        obj.pk = stock.pk
        obj._state.adding = False
        obj.refresh_from_db()


class LowStockFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [("low", "Low (at or below threshold)"), ("out", "Out of stock")]

    def queryset(self, request, queryset: QuerySet[Stock]):
        available = F("on_hand") - F("reserved")
        if self.value() == "low":
            return queryset.alias(available_units=available).filter(available_units__lte=F("low_stock_threshold"))
        if self.value() == "out":
            return queryset.alias(available_units=available).filter(available_units__lte=0)
        return queryset


# --- staff ----------------------------------------------------------------------------------------


class StockMovementInline(admin.TabularInline):
    model = StockMovement
    fields = ["created_at", "delta", "on_hand_after", "reason", "actor"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Stock)
class StockAdmin(_StockEditing, admin.ModelAdmin):
    list_display = ["sku", "product", "on_hand", "reserved", "available", "low_stock_threshold", "updated_at"]
    list_filter = [LowStockFilter]
    search_fields = ["=sku", "variant__product__title"]
    list_select_related = ["variant__product"]
    autocomplete_fields = ["variant"]
    inlines = [StockMovementInline]
    show_full_result_count = False  # a COUNT(*) over every SKU on each page is wasted at scale

    @admin.display(description="product")
    def product(self, obj: Stock) -> str:
        return obj.variant.product.title

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a stock row lives and dies with its variant


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The stock history: written by stock changes only, never edited."""

    list_display = ["created_at", "stock", "delta", "on_hand_after", "reason", "actor"]
    search_fields = ["=stock__sku", "reason"]
    list_select_related = ["stock", "actor"]
    date_hierarchy = "created_at"
    show_full_result_count = False


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    fields = ["sku", "quantity"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Stock held for checkouts: written by inventory.services only (create, release, expire, commit)."""

    list_display = ["key", "status", "expires_at", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["=key", "=lines__sku"]
    date_hierarchy = "created_at"
    readonly_fields = ["key", "status", "expires_at", "created_at", "updated_at"]
    inlines = [ReservationLineInline]
    show_full_result_count = False


# --- the seller site ----------------------------------------------------------------------------


class SellerStockMovementInline(SellerScopedInlineMixin, StockMovementInline):
    seller_field = "stock__variant__product__seller"
    fields = ["created_at", "delta", "on_hand_after", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Stock, site=seller_admin_site)
class SellerStockAdmin(_StockEditing, SellerScopedAdminMixin, admin.ModelAdmin):
    """The seller's own SKUs. A new variant's stock row is added here (or by the product API and the
    import, which create it with the variant); rows are never deleted on their own."""

    seller_field = "variant__product__seller"
    seller_can_delete = False
    list_display = ["sku", "product", "on_hand", "reserved", "available", "low_stock_threshold", "updated_at"]
    list_filter = [LowStockFilter]
    search_fields = ["=sku", "variant__product__title"]
    list_select_related = ["variant__product"]
    autocomplete_fields = ["variant"]
    inlines = [SellerStockMovementInline]

    @admin.display(description="product")
    def product(self, obj: Stock) -> str:
        return obj.variant.product.title
