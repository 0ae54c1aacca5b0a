"""Staff admin for sellers (review, approve, reject, suspend, reinstate), the commission ledger and
payouts; on the seller site, the seller's own store profile, ledger and payouts (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from shop.core.admin import ReadOnlyAdminMixin
from shop.core.money import DEFAULT_CURRENCY

from . import selectors, services
from .admin_site import SellerScopedAdminMixin, SellerScopedInlineMixin, seller_admin_site
from .forms import SellerProfileForm, StaffSellerForm
from .models import LedgerEntry, Payout, Seller, StoreProfile

# Neither admin ever shows a posted IBAN back, and Django's error reports leave it out.
_sensitive_iban = method_decorator(sensitive_post_parameters("iban"))


def _set_status(modeladmin, request: HttpRequest, queryset: QuerySet[Seller], status: str, verb: str) -> None:
    changed, refused = [], []
    for seller in queryset:
        if seller.status == status:
            continue
        try:
            services.seller_set_status(seller=seller, status=status, actor=request.user)
        except services.InvalidStatusChange as exc:
            refused.append(f"{seller.store_name}: {exc}")
        else:
            changed.append(seller.store_name)
    if changed:
        modeladmin.message_user(request, f"{verb} {len(changed)} seller(s): {', '.join(changed)}.", messages.SUCCESS)
    for message in refused:
        modeladmin.message_user(request, message, messages.WARNING)
    if not changed and not refused:
        modeladmin.message_user(request, "Nothing to change.", messages.INFO)


@admin.action(description="Approve the selected sellers")
def approve(modeladmin, request, queryset):
    reviewable = queryset.filter(status__in=[Seller.Status.PENDING, Seller.Status.REJECTED])
    _set_status(modeladmin, request, reviewable, Seller.Status.APPROVED, "Approved")
    if queryset.filter(status=Seller.Status.SUSPENDED).exists():
        modeladmin.message_user(
            request, "Suspended sellers were left as they are: use “Reinstate” for them.", messages.WARNING
        )


@admin.action(description="Reject the selected applications")
def reject(modeladmin, request, queryset):
    _set_status(modeladmin, request, queryset, Seller.Status.REJECTED, "Rejected")


@admin.action(description="Suspend the selected sellers (their products are delisted at once)")
def suspend(modeladmin, request, queryset):
    _set_status(modeladmin, request, queryset, Seller.Status.SUSPENDED, "Suspended")


@admin.action(description="Reinstate the selected suspended sellers")
def reinstate(modeladmin, request, queryset):
    _set_status(
        modeladmin, request, queryset.filter(status=Seller.Status.SUSPENDED), Seller.Status.APPROVED, "Reinstated"
    )


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    form = StaffSellerForm
    actions = [approve, reject, suspend, reinstate]
    list_display = ["store_name", "slug", "user", "status", "commission_rate", "created_at", "status_changed_at"]
    list_filter = ["status"]
    search_fields = ["store_name", "slug", "user__email"]
    ordering = ["-created_at"]
    autocomplete_fields = ["user"]
    # The status changes through the actions, which publish the event and email the seller.
    readonly_fields = ["status", "status_changed_at", "created_at", "payout_account_last4"]
    fieldsets = [
        (None, {"fields": ["user", "store_name", "slug", "status", "status_changed_at", "created_at"]}),
        ("Storefront", {"fields": ["logo", "description", "return_policy"]}),
        ("Commission", {"fields": ["commission_rate"]}),
        (
            "Payout",
            {"fields": ["payout_account_holder", "payout_account_last4", "iban", "payout_provider_ref"]},
        ),
    ]

    @_sensitive_iban
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        iban = form.cleaned_data.get("iban")
        if iban:
            obj.payout_account_last4 = services.iban_last4(iban)
        super().save_model(request, obj, form, change)


# --- the seller site: the seller's own store profile ----------------------------------------------


@admin.register(StoreProfile, site=seller_admin_site)
class StoreProfileAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    """One object: the seller's own profile. The list goes straight to it."""

    seller_field = "pk"
    seller_can_add = False
    seller_can_delete = False
    form = SellerProfileForm
    readonly_fields = ["slug", "status", "commission", "payout_account"]
    fieldsets = [
        (None, {"fields": ["store_name", "slug", "status", "logo", "description", "return_policy"]}),
        ("Commission", {"fields": ["commission"]}),
        (
            "Payout account",
            {
                "fields": ["payout_account_holder", "payout_account", "iban"],
                "description": "We pay your sales, less commission and refunds, into this account every two weeks.",
            },
        ),
    ]

    @admin.display(description="Commission rate")
    def commission(self, obj: Seller) -> str:
        if obj.commission_rate is None:
            return "The rate of each product's category (see Fees on the Sell page)."
        return f"{obj.commission_rate * 100:.2f}% on every sale (agreed with you)"

    @admin.display(description="Account")
    def payout_account(self, obj: Seller) -> str:
        return f"•••• {obj.payout_account_last4}" if obj.payout_account_last4 else "None yet"

    def changelist_view(self, request, extra_context=None):
        seller = self.get_seller(request)
        return HttpResponseRedirect(
            reverse("admin:sellers_storeprofile_change", args=[seller.pk], current_app=self.admin_site.name)
        )

    @_sensitive_iban
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        # the form has put its values on obj; the service checks them and saves only those fields
        changed = {name: getattr(obj, name) for name in services.PROFILE_FIELDS if name in form.changed_data}
        try:
            services.seller_profile_update(seller=obj, data=changed, iban=form.cleaned_data.get("iban", ""))
        except ValidationError as exc:  # checked by the form already; a race at most
            raise ValidationError(exc.messages) from None

    def response_change(self, request, obj):
        self.message_user(request, "Your store profile is saved.", messages.SUCCESS)
        return HttpResponseRedirect(request.path)


# --- commission ledger and payouts: written by orders and the payout run, only read here -----------


class _LedgerEntryAdminBase(admin.ModelAdmin):
    list_display = ["created_at", "kind", "signed_amount", "currency", "reference", "payout"]
    list_filter = ["kind"]
    search_fields = ["reference"]
    date_hierarchy = "created_at"
    fields = ["created_at", "kind", "amount", "currency", "reference", "payout"]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description="Amount", ordering="amount")
    def signed_amount(self, obj: LedgerEntry) -> str:
        return f"{obj.amount:+.2f}"


class _PayoutAdminBase(admin.ModelAdmin):
    list_display = ["created_at", "amount", "currency", "period_start", "period_end", "status", "paid_at"]
    list_filter = ["status"]
    date_hierarchy = "created_at"
    fields = [
        "amount",
        "currency",
        "period_start",
        "period_end",
        "status",
        "created_at",
        "paid_at",
        "transfer_reference",
    ]
    readonly_fields = fields


class PayoutEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LedgerEntry
    fields = ["created_at", "kind", "amount", "currency", "reference"]
    readonly_fields = fields
    extra = 0
    show_change_link = False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, _LedgerEntryAdminBase):
    list_display = ["created_at", "seller", "kind", "signed_amount", "currency", "reference", "payout"]
    list_filter = ["kind", "seller"]
    search_fields = ["reference", "idempotency_key", "seller__store_name"]
    list_select_related = ["seller", "payout"]
    fields = ["seller", *_LedgerEntryAdminBase.fields, "idempotency_key"]
    readonly_fields = fields


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdminMixin, _PayoutAdminBase):
    list_display = ["created_at", "seller", *_PayoutAdminBase.list_display[1:]]
    list_filter = ["status", "seller"]
    search_fields = ["seller__store_name", "idempotency_key", "transfer_reference"]
    list_select_related = ["seller"]
    fields = ["seller", *_PayoutAdminBase.fields, "idempotency_key", "destination"]
    readonly_fields = fields
    inlines = [PayoutEntryInline]


@admin.register(LedgerEntry, site=seller_admin_site)
class SellerLedgerEntryAdmin(SellerScopedAdminMixin, _LedgerEntryAdminBase):
    """The seller's own ledger, read-only, with its balance above the list."""

    seller_field = "seller"
    seller_can_add = seller_can_change = seller_can_delete = False

    def changelist_view(self, request, extra_context=None):
        balance = selectors.seller_balance(seller_id=self.get_seller(request).pk)
        title = f"Your ledger: balance {balance:.2f} {DEFAULT_CURRENCY}"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})


class SellerPayoutEntryInline(SellerScopedInlineMixin, PayoutEntryInline):
    seller_field = "seller"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payout, site=seller_admin_site)
class SellerPayoutAdmin(SellerScopedAdminMixin, _PayoutAdminBase):
    """The seller's own payouts and the entries each one paid, read-only."""

    seller_field = "seller"
    seller_can_add = seller_can_change = seller_can_delete = False
    inlines = [SellerPayoutEntryInline]
