"""Payments in the staff admin, read-only: every row is written by the payment services (and the
gateways' answers), never by hand. Refunds and payouts are made through the orders and sellers apps."""

from django.contrib import admin

from shop.core.admin import ReadOnlyAdminMixin

from .models import PaymentAttempt, PaymentIntent, Refund, SandboxOperation, Transfer, WebhookEvent


class PaymentAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PaymentAttempt
    fk_name = "intent"
    fields = ["at", "gateway", "operation", "outcome", "http_status", "error_class", "duration_ms", "message"]
    readonly_fields = fields
    extra = 0


class RefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Refund
    fields = ["created_at", "amount", "currency", "status", "gateway_reference", "reason"]
    readonly_fields = fields
    extra = 0


@admin.register(PaymentIntent)
class PaymentIntentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "reference", "amount", "currency", "method", "gateway", "status", "decline_code"]
    list_filter = ["status", "gateway", "method"]
    search_fields = ["=reference", "=idempotency_key", "=gateway_reference"]
    exclude = ["payment_token"]
    readonly_fields = [
        "idempotency_key",
        "reference",
        "amount",
        "currency",
        "method",
        "gateway",
        "gateway_reference",
        "status",
        "decline_code",
        "message",
        "created_at",
        "updated_at",
    ]
    inlines = [PaymentAttemptInline, RefundInline]
    show_full_result_count = False


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "gateway", "operation", "outcome", "http_status", "error_class", "duration_ms"]
    list_filter = ["gateway", "operation", "outcome"]
    readonly_fields = [f.name for f in PaymentAttempt._meta.fields]
    show_full_result_count = False


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "intent", "amount", "currency", "gateway", "status"]
    list_filter = ["status", "gateway"]
    search_fields = ["=idempotency_key", "=gateway_reference"]
    readonly_fields = [f.name for f in Refund._meta.fields]


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "destination", "amount", "currency", "gateway", "status"]
    list_filter = ["status", "gateway"]
    search_fields = ["=idempotency_key", "=destination"]
    readonly_fields = [f.name for f in Transfer._meta.fields]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "gateway", "type", "event_id"]
    list_filter = ["gateway", "type"]
    search_fields = ["=event_id"]
    readonly_fields = ["gateway", "event_id", "type", "payload", "received_at"]


@admin.register(SandboxOperation)
class SandboxOperationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "reference", "amount", "currency", "status", "decline_code"]
    list_filter = ["kind", "status"]
    exclude = ["token"]
    readonly_fields = [f.name for f in SandboxOperation._meta.fields if f.name != "token"]
