"""Orders in the admins.

Staff (/admin/): orders with their sub-orders, timeline and refunds, checkouts with the saga's steps
and payment attempts, returns, refunds (all read-only: written by orders.services), and the
shipping methods and tax rules (edited here). Staff can also move a sub-order or decide a return
with the same buttons as sellers.

Seller site (/seller/, sellers.admin_site): the seller's own sub-orders (never those still waiting
for payment or failed) and returns. Nothing is edited through a form: the buttons (mark
processing, ship with carrier and tracking number, mark delivered, cancel; approve or reject a
return) each call one service, so every transition is validated and recorded on the timeline.
Another seller's sub-order or return is a 404 through every URL, the buttons' included: each loads
the object through the scoped ``get_object``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join

from orders import services, states
from orders.forms import RejectReturnForm, ShipForm
from orders.models import (
    Checkout,
    CheckoutLine,
    CheckoutStep,
    Order,
    OrderEvent,
    OrderLine,
    OrderRefund,
    PaymentAttempt,
    Return,
    ReturnLine,
    ShippingMethod,
    SubOrder,
    TaxRate,
)
from sellers.admin_site import SellerScopedAdminMixin, SellerScopedInlineMixin, seller_admin_site
from shop.core.admin import ReadOnlyAdminMixin

SS = SubOrder.Status


def _address_html(address: dict) -> str:
    lines = [
        address.get("full_name", ""),
        address.get("line1", ""),
        address.get("line2", ""),
        f"{address.get('postal_code', '')} {address.get('city', '')}".strip(),
        address.get("country", ""),
        address.get("phone", ""),
    ]
    return format_html_join("", "{}<br>", ((line,) for line in lines if line)) or "-"


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class _ObjectButtons:
    """Per-object buttons of an admin: routes ``<id>/<action>/`` that load the object through
    ``get_object`` (scoped on the seller site), check ``can_act`` and call one service."""

    buttons: tuple[str, ...] = ()

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        extra = [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(getattr(self, f"{name}_view")),
                name=f"{info[0]}_{info[1]}_{name}",
            )
            for name in self.buttons
        ]
        return extra + super().get_urls()

    def can_act(self, request: HttpRequest, obj) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    def acted_on(self, request: HttpRequest, object_id: str):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such object.")
        if not self.can_act(request, obj):
            raise PermissionDenied
        return obj

    def change_url(self, obj) -> str:
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[obj.pk],
            current_app=self.admin_site.name,
        )

    def button_url(self, obj, name: str) -> str:
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{name}",
            args=[obj.pk],
            current_app=self.admin_site.name,
        )

    def render_button_form(self, request: HttpRequest, obj, *, form, title: str, submit: str, status: int = 200):
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": title,
            "form": form,
            "submit": submit,
            "change_url": self.change_url(obj),
        }
        return TemplateResponse(request, "orders/admin/button_form.html", context, status=status)

    def _post_only(self, request: HttpRequest) -> HttpResponse | None:
        return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])

    def _run(self, request: HttpRequest, obj, call, done: str) -> HttpResponse:
        try:
            call()
        except services.InvalidTransition as exc:
            self.message_user(request, str(exc), messages.ERROR)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return redirect(self.change_url(obj))


# --- sub-orders ---------------------------------------------------------------------------------------


class _SubOrderAdminBase(_ObjectButtons, admin.ModelAdmin):
    buttons = ("process", "ship", "deliver", "cancel")
    change_form_template = "orders/admin/sub_order_change_form.html"
    list_display = ["__str__", "order_number", "status", "total", "currency", "tracking_number", "created_at"]
    list_filter = ["status"]
    search_fields = ["=order__number", "=tracking_number"]
    list_select_related = ["order", "seller"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["mark_processing", "mark_delivered"]
    fieldsets = [
        (None, {"fields": ["order_number", "status", "seller", "shipping_method"]}),
        ("Ship to", {"fields": ["ship_to"]}),
        ("Amounts", {"fields": ["subtotal", "discount", "shipping", "tax", "total", "commission", "refunded_total"]}),
        ("Fulfilment", {"fields": ["carrier", "tracking_number", "confirmed_at", "shipped_at", "delivered_at"]}),
    ]
    readonly_fields = [
        "order_number",
        "status",
        "seller",
        "shipping_method",
        "ship_to",
        "subtotal",
        "discount",
        "shipping",
        "tax",
        "total",
        "commission",
        "refunded_total",
        "carrier",
        "tracking_number",
        "confirmed_at",
        "shipped_at",
        "delivered_at",
    ]

    @admin.display(description="order", ordering="order__number")
    def order_number(self, obj: SubOrder) -> str:
        return obj.order.number

    @admin.display(description="shipping method")
    def shipping_method(self, obj: SubOrder) -> str:
        return obj.order.shipping_method_name

    @admin.display(description="buyer's shipping address")
    def ship_to(self, obj: SubOrder) -> str:
        return _address_html(obj.order.address)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if obj is not None and self.can_act(request, obj):
            allowed = states.SUB_ORDER_TRANSITIONS.get(obj.status, frozenset())
            extra_context["order_buttons"] = [
                (name, label, self.button_url(obj, name), method)
                for name, target, label, method in (
                    ("process", SS.PROCESSING, "Mark processing", "post"),
                    ("ship", SS.SHIPPED, "Ship…", "get"),
                    ("deliver", SS.DELIVERED, "Mark delivered", "post"),
                    ("cancel", SS.CANCELLED, "Cancel sub-order", "post"),
                )
                if target in allowed
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def process_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        sub_order = self.acted_on(request, object_id)
        return self._post_only(request) or self._run(
            request,
            sub_order,
            lambda: services.sub_order_process(sub_order=sub_order, actor=request.user),
            "Marked processing.",
        )

    def deliver_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        sub_order = self.acted_on(request, object_id)
        return self._post_only(request) or self._run(
            request,
            sub_order,
            lambda: services.sub_order_deliver(sub_order=sub_order, actor=request.user),
            "Marked delivered.",
        )

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        sub_order = self.acted_on(request, object_id)
        who = "the seller" if getattr(self.admin_site, "name", "") == seller_admin_site.name else "staff"
        return self._post_only(request) or self._run(
            request,
            sub_order,
            lambda: services.sub_order_cancel(sub_order=sub_order, actor=request.user, reason=f"cancelled by {who}"),
            "Cancelled: the stock is back on hand and the buyer is refunded.",
        )

    def ship_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        sub_order = self.acted_on(request, object_id)
        if SS.SHIPPED not in states.SUB_ORDER_TRANSITIONS.get(sub_order.status, frozenset()):
            self.message_user(request, f"A {sub_order.get_status_display().lower()} sub-order cannot ship.", "error")
            return redirect(self.change_url(sub_order))
        form = ShipForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.sub_order_ship(sub_order=sub_order, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except services.InvalidTransition as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return redirect(self.change_url(sub_order))
            else:
                self.message_user(request, "Shipped: the buyer gets the carrier and tracking number.", "success")
                return redirect(self.change_url(sub_order))
        return self.render_button_form(
            request,
            sub_order,
            form=form,
            title=f"Ship {sub_order}",
            submit="Mark shipped",
            status=400 if form.errors else 200,
        )

    def _bulk(self, request, queryset, call, done: str) -> None:
        moved, refused = 0, []
        for sub_order in queryset:
            try:
                call(sub_order)
            except services.InvalidTransition:
                refused.append(str(sub_order))
            else:
                moved += 1
        if moved:
            self.message_user(request, f"{moved} {done}.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"Not in a state for that: {', '.join(refused)}.", messages.WARNING)

    @admin.action(description="Mark selected sub-orders processing")
    def mark_processing(self, request, queryset):
        self._bulk(
            request,
            queryset,
            lambda s: services.sub_order_process(sub_order=s, actor=request.user),
            "sub-order(s) marked processing",
        )

    @admin.action(description="Mark selected sub-orders delivered")
    def mark_delivered(self, request, queryset):
        self._bulk(
            request,
            queryset,
            lambda s: services.sub_order_deliver(sub_order=s, actor=request.user),
            "sub-order(s) marked delivered",
        )


class OrderLineInline(_ReadOnlyInline):
    model = OrderLine
    fields = ["sku", "title", "quantity", "unit_price", "discount", "shipping", "tax", "total", "commission_amount"]


class SubOrderEventInline(_ReadOnlyInline):
    model = OrderEvent
    fk_name = "sub_order"
    fields = ["at", "from_status", "to_status", "note", "actor"]
    verbose_name_plural = "timeline"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(SubOrder)
class SubOrderAdmin(ReadOnlyAdminMixin, _SubOrderAdminBase):
    list_display = [*_SubOrderAdminBase.list_display, "seller"]
    list_filter = ["status", "seller"]
    inlines = [OrderLineInline, SubOrderEventInline]


# --- orders and checkouts (staff) -------------------------------------------------------------------


class SubOrderInline(_ReadOnlyInline):
    model = SubOrder
    fields = ["seller", "status", "total", "refunded_total", "carrier", "tracking_number"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("seller")


class OrderEventInline(_ReadOnlyInline):
    model = OrderEvent
    fk_name = "order"
    fields = ["at", "sub_order", "return_request", "from_status", "to_status", "note", "actor"]
    verbose_name_plural = "timeline"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "sub_order__order", "return_request__order")


class OrderRefundInline(_ReadOnlyInline):
    model = OrderRefund
    fields = ["created_at", "sub_order", "amount", "currency", "status", "reason", "refunded_at", "last_error"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sub_order__order", "order")


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Orders are written by the checkout saga and the sub-orders' moves: shown here, never edited."""

    list_display = ["number", "buyer", "status", "total", "currency", "refunded_total", "created_at"]
    list_filter = ["status"]
    search_fields = ["=number", "buyer__email"]
    list_select_related = ["buyer"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [
        "number",
        "buyer",
        "status",
        "ship_to",
        "shipping_method_name",
        "coupon_code",
        "subtotal",
        "discount",
        "shipping",
        "tax",
        "total",
        "refunded_total",
        "currency",
        "payment_gateway",
        "payment_intent_id",
        "checkout",
        "created_at",
        "confirmed_at",
    ]
    fields = readonly_fields
    inlines = [SubOrderInline, OrderRefundInline, OrderEventInline]

    @admin.display(description="ship to")
    def ship_to(self, obj: Order) -> str:
        return _address_html(obj.address)


class CheckoutLineInline(_ReadOnlyInline):
    model = CheckoutLine
    fields = ["sku", "title", "quantity", "unit_price", "discount", "shipping", "tax", "total"]


class PaymentAttemptInline(_ReadOnlyInline):
    model = PaymentAttempt
    fields = ["created_at", "gateway", "status", "amount", "decline_code", "message", "intent_id", "finished_at"]


class CheckoutStepInline(_ReadOnlyInline):
    model = CheckoutStep
    fields = ["at", "name", "detail"]
    verbose_name_plural = "saga steps"


@admin.register(Checkout)
class CheckoutAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The saga's records: what was reserved and priced, each payment attempt and each step."""

    list_display = ["pk", "buyer", "status", "total", "currency", "expires_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["=id", "buyer__email"]
    list_select_related = ["buyer"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [
        "buyer",
        "status",
        "shipping_method",
        "coupon_code",
        "subtotal",
        "discount",
        "shipping",
        "tax",
        "total",
        "currency",
        "price_changes",
        "reservation",
        "expires_at",
        "paying_since",
        "created_at",
    ]
    fields = readonly_fields
    inlines = [CheckoutLineInline, PaymentAttemptInline, CheckoutStepInline]


@admin.register(OrderRefund)
class OrderRefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "order", "sub_order", "amount", "currency", "status", "reason", "attempts"]
    list_filter = ["status"]
    search_fields = ["=order__number", "=idempotency_key"]
    list_select_related = ["order", "sub_order__order"]
    show_full_result_count = False


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "base_price", "price_per_kg", "free_over", "currency", "active", "position"]
    list_editable = ["active", "position"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    """Rules of the built-in tax calculator (orders.tax.RuleBasedTax)."""

    list_display = ["country", "category", "rate", "name"]
    list_filter = ["country"]
    list_select_related = ["category"]
    autocomplete_fields = ["category"]


# --- returns ------------------------------------------------------------------------------------------


class _ReturnAdminBase(_ObjectButtons, admin.ModelAdmin):
    buttons = ("approve", "reject")
    change_form_template = "orders/admin/return_change_form.html"
    list_display = ["__str__", "order_number", "status", "amount", "currency", "created_at"]
    list_filter = ["status"]
    search_fields = ["=order__number"]
    list_select_related = ["order", "sub_order"]
    show_full_result_count = False
    readonly_fields = [
        "order_number",
        "sub_order",
        "status",
        "reason",
        "amount",
        "currency",
        "rejection_reason",
        "created_at",
        "decided_at",
        "refunded_at",
    ]
    fields = readonly_fields

    @admin.display(description="order", ordering="order__number")
    def order_number(self, obj: Return) -> str:
        return obj.order.number

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if obj is not None and obj.status == Return.Status.REQUESTED and self.can_act(request, obj):
            extra_context["approve_url"] = self.button_url(obj, "approve")
            extra_context["reject_url"] = self.button_url(obj, "reject")
        return super().change_view(request, object_id, form_url, extra_context)

    def approve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        the_return = self.acted_on(request, object_id)
        return self._post_only(request) or self._run(
            request,
            the_return,
            lambda: services.return_approve(
                the_return=the_return, actor=request.user, restock=request.POST.get("restock") == "on"
            ),
            "Approved: the buyer is refunded"
            + (", and the returned units are back in stock." if request.POST.get("restock") == "on" else "."),
        )

    def reject_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        the_return = self.acted_on(request, object_id)
        form = RejectReturnForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.return_reject(the_return=the_return, reason=form.cleaned_data["reason"], actor=request.user)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except services.InvalidTransition as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return redirect(self.change_url(the_return))
            else:
                self.message_user(request, "Rejected; the buyer sees your reason.", messages.SUCCESS)
                return redirect(self.change_url(the_return))
        return self.render_button_form(
            request,
            the_return,
            form=form,
            title=f"Reject {the_return}",
            submit="Reject return",
            status=400 if form.errors else 200,
        )


class ReturnLineInline(_ReadOnlyInline):
    model = ReturnLine
    fields = ["sku", "title", "quantity", "amount"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")

    @admin.display(description="SKU")
    def sku(self, obj: ReturnLine) -> str:
        return obj.order_line.sku

    def title(self, obj: ReturnLine) -> str:
        return obj.order_line.title


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdminMixin, _ReturnAdminBase):
    inlines = [ReturnLineInline]


# --- the seller site ----------------------------------------------------------------------------------


class _SellerActs:
    """On the seller site the scoped ``get_object`` already proved the object is the seller's."""

    seller_can_add = False
    seller_can_change = False  # no form: the buttons move it
    seller_can_delete = False

    def can_act(self, request: HttpRequest, obj) -> bool:
        return self.owns(request, obj)


class SellerOrderLineInline(SellerScopedInlineMixin, _ReadOnlyInline):
    model = OrderLine
    seller_field = "sub_order__seller"
    fields = ["sku", "title", "quantity", "unit_price", "discount", "tax", "total", "commission_amount"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SellerSubOrderEventInline(SellerScopedInlineMixin, _ReadOnlyInline):
    model = OrderEvent
    fk_name = "sub_order"
    seller_field = "sub_order__seller"
    fields = ["at", "from_status", "to_status", "note"]
    verbose_name_plural = "timeline"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SubOrder, site=seller_admin_site)
class SellerSubOrderAdmin(_SellerActs, SellerScopedAdminMixin, _SubOrderAdminBase):
    """The seller's parts of orders, from payment on."""

    seller_field = "seller"
    inlines = [SellerOrderLineInline, SellerSubOrderEventInline]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).exclude(status__in=[SubOrder.Status.PENDING_PAYMENT, SubOrder.Status.FAILED])
        )


class SellerReturnLineInline(SellerScopedInlineMixin, ReturnLineInline):
    seller_field = "return_request__sub_order__seller"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Return, site=seller_admin_site)
class SellerReturnAdmin(_SellerActs, SellerScopedAdminMixin, _ReturnAdminBase):
    """Returns of the seller's sub-orders: approve (the buyer is refunded) or reject with a reason."""

    seller_field = "sub_order__seller"
    inlines = [SellerReturnLineInline]
