"""Staff admin of the kernel: the outbox, for operators, and a read-only mixin the apps share."""

from django.conf import settings
from django.contrib import admin
from django.db.models import Q

from shop.core.models import HandledEvent, OutboxEvent


class ReadOnlyAdminMixin:
    """A record written by the system only (history, ledgers, events): shown, never added, changed
    or deleted through the admin."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class DeliveryFilter(admin.SimpleListFilter):
    title = "delivery"
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [("delivered", "Delivered"), ("pending", "Pending"), ("failed", "Gave up (needs an operator)")]

    def queryset(self, request, queryset):
        gave_up = Q(delivered_at__isnull=True, attempts__gte=settings.OUTBOX_MAX_ATTEMPTS)
        if self.value() == "delivered":
            return queryset.filter(delivered_at__isnull=False)
        if self.value() == "pending":
            return queryset.filter(delivered_at__isnull=True).exclude(gave_up)
        if self.value() == "failed":
            return queryset.filter(gave_up)
        return queryset


class HandledEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = HandledEvent
    fields = ["handler", "handled_at"]
    readonly_fields = fields
    extra = 0


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "name", "delivered_at", "attempts", "next_attempt_at"]
    list_filter = [DeliveryFilter, "name"]
    search_fields = ["=id", "name"]
    readonly_fields = [
        "id",
        "name",
        "payload",
        "created_at",
        "delivered_at",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    inlines = [HandledEventInline]
    show_full_result_count = False
