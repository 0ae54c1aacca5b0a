"""The checkout and order pages of a signed-in buyer. Thin: each parses its form, calls one service
or selector of the orders app and renders or redirects; the saga's rules live in orders.services.

Checkout: address -> shipping -> coupon and summary (nothing reserved yet: ``checkout_preview``) ->
"Continue to payment" (``checkout_start``: the stock is reserved) -> payment (``checkout_pay``) ->
confirmation. The buyer's choices on the way (address, method, coupon) are kept in the session.
Every form that starts or pays carries an Idempotency-Key made when the page was rendered, so a
double submit replays the first request instead of reserving or charging again.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors as account_selectors
from accounts import services as account_services
from cart import selectors as cart_selectors
from cart import services as cart_services
from orders import selectors, services, states
from orders.forms import (
    NEW_ADDRESS,
    AddressStepForm,
    CouponForm,
    PayForm,
    ReturnForm,
    ShippingStepForm,
    StartForm,
    new_key,
)
from orders.models import Checkout, Order, SubOrder

SESSION_KEY = "checkout_choices"
ORDERS_PER_PAGE = 20
CART_UNAVAILABLE = "Your cart is unavailable right now. Please try again in a few minutes; browsing still works."

# What the payment page says for each answer of checkout_pay that is not a success.
DECLINED = "Your card was declined. Try another card."
UNAVAILABLE = "We could not reach the payment service, and nothing was charged. Please try again in a moment."
DETAILS_NOT_ACCEPTED = "The payment details were not accepted. Enter your card again or choose another way to pay."
CARD_NUMBER_REFUSED = (
    "For your safety we never accept a card number typed into the shop: the card form turns it into a "
    "token in your browser. Please enable JavaScript for the card form, or pay with a wallet or in instalments."
)
PAID_WITHOUT_STOCK = (
    "Your payment arrived after your reservation lapsed and some items sold out meanwhile. "
    "The whole amount is refunded to you."
)
WALLET_TOKEN = "tok_wallet"  # noqa: S105 (the sandbox's wallet token, API.md)
BNPL_TOKEN = "tok_bnpl"  # noqa: S105


# --- session choices ---------------------------------------------------------------------------------


def _choices(request: HttpRequest) -> dict[str, Any]:
    stored = request.session.get(SESSION_KEY)
    return dict(stored) if isinstance(stored, dict) else {}


def _remember(request: HttpRequest, **changes: Any) -> None:
    choices = _choices(request)
    choices.update(changes)
    request.session[SESSION_KEY] = {k: v for k, v in choices.items() if v not in (None, "")}


def _chosen_address(request: HttpRequest):
    address_id = _choices(request).get("address_id")
    if not isinstance(address_id, int):
        return None
    return account_selectors.address_get_for_user(user=request.user, address_id=address_id)


def _chosen_method(request: HttpRequest, methods):
    code = _choices(request).get("shipping_method")
    return next((m for m in methods if m.code == code), None)


def _cart_unavailable(request: HttpRequest) -> HttpResponse:
    return render(request, "cart/unavailable.html", {"status": 503, "detail": CART_UNAVAILABLE}, status=503)


def _empty_cart(request: HttpRequest) -> HttpResponse:
    messages.info(request, "Your cart is empty: add something before you check out.")
    return redirect("cart:detail")


def _cart_is_empty(request: HttpRequest) -> bool:
    """Raises CartUnavailable."""
    return not cart_selectors.cart_get(owner=cart_services.CartOwner(user=request.user)).lines


# --- the steps before anything is reserved ------------------------------------------------------------


@login_required
@require_GET
def checkout_entry(request: HttpRequest) -> HttpResponse:
    """/checkout/: back to the payment of an open checkout, else the first step not done yet."""
    open_checkout = selectors.checkout_open_for_buyer(user=request.user)
    if open_checkout is not None and open_checkout.is_priced:
        return redirect("orders:checkout_pay", checkout_id=open_checkout.pk)
    if _chosen_address(request) is None:
        return redirect("orders:checkout_address")
    if _chosen_method(request, selectors.shipping_methods_active()) is None:
        return redirect("orders:checkout_shipping")
    return redirect("orders:checkout_review")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def checkout_address(request: HttpRequest) -> HttpResponse:
    try:
        if _cart_is_empty(request):
            return _empty_cart(request)
    except cart_services.CartUnavailable:
        return _cart_unavailable(request)
    addresses = list(account_selectors.address_list_for_user(user=request.user))
    chosen = _chosen_address(request) or (addresses[0] if addresses else None)
    initial = {"address": str(chosen.pk) if chosen else NEW_ADDRESS}
    form = AddressStepForm(request.POST or None, addresses=addresses, initial=initial)
    if request.method == "POST" and form.is_valid():
        if form.is_new:
            try:
                address = account_services.address_create(user=request.user, **form.new_address())
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
                address = None
        else:
            address = next(a for a in addresses if str(a.pk) == form.cleaned_data["address"])
        if address is not None:
            _remember(request, address_id=address.pk)
            return redirect("orders:checkout_shipping")
    status = 400 if form.errors else 200
    return render(
        request,
        "orders/checkout/address.html",
        {"form": form, "addresses": addresses, "step": "address"},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def checkout_shipping(request: HttpRequest) -> HttpResponse:
    address = _chosen_address(request)
    if address is None:
        return redirect("orders:checkout_address")
    methods = selectors.shipping_methods_active()
    if not methods:
        messages.error(request, "No shipping method is offered right now. Please try again later.")
        return redirect("cart:detail")
    chosen = _chosen_method(request, methods) or methods[0]
    form = ShippingStepForm(request.POST or None, methods=methods, initial={"shipping_method": chosen.code})
    if request.method == "POST" and form.is_valid():
        _remember(request, shipping_method=form.cleaned_data["shipping_method"])
        return redirect("orders:checkout_review")
    try:
        preview = selectors.checkout_preview(
            user=request.user,
            shipping_method=chosen,
            country=address.country,
            coupon=_choices(request).get("coupon", ""),
        )
    except cart_services.CartUnavailable:
        return _cart_unavailable(request)
    if not preview.lines:
        return _empty_cart(request)
    options = [{"method": m, "packages": preview.shipping_by_method.get(m.code, [])} for m in methods]
    for option in options:
        option["total"] = sum((price for _, price in option["packages"]), 0)
    return render(
        request,
        "orders/checkout/shipping.html",
        {"form": form, "options": options, "address": address, "preview": preview, "step": "shipping"},
        status=400 if form.errors else 200,
    )


def _review(request: HttpRequest, *, coupon_form: CouponForm | None = None, status: int = 200) -> HttpResponse:
    """The summary with the coupon form; ``coupon_form`` carries an error to show next to the field."""
    address = _chosen_address(request)
    if address is None:
        return redirect("orders:checkout_address")
    method = _chosen_method(request, selectors.shipping_methods_active())
    if method is None:
        return redirect("orders:checkout_shipping")
    coupon = _choices(request).get("coupon", "")
    try:
        preview = selectors.checkout_preview(
            user=request.user, shipping_method=method, country=address.country, coupon=coupon
        )
    except cart_services.CartUnavailable:
        return _cart_unavailable(request)
    if not preview.lines:
        return _empty_cart(request)
    if coupon_form is None:
        coupon_form = CouponForm()
        if preview.coupon_error:  # it applied before; it does not any more (expired, used up, ...)
            coupon_form = CouponForm({"code": coupon})
            coupon_form.is_valid()
            coupon_form.add_error("code", f"{preview.coupon_error} It was removed.")
            _remember(request, coupon="")
    context = {
        "preview": preview,
        "address": address,
        "method": method,
        "coupon_form": coupon_form,
        "start_form": StartForm(),
        "step": "review",
    }
    return render(request, "orders/checkout/review.html", context, status=status)


@never_cache
@login_required
@require_GET
def checkout_review(request: HttpRequest) -> HttpResponse:
    return _review(request)


@login_required
@require_POST
def checkout_coupon_apply(request: HttpRequest) -> HttpResponse:
    form = CouponForm(request.POST)
    address = _chosen_address(request)
    method = _chosen_method(request, selectors.shipping_methods_active())
    if address is None or method is None:
        return redirect("orders:checkout")
    if not form.is_valid():
        return _review(request, coupon_form=form, status=400)
    try:
        preview = selectors.checkout_preview(
            user=request.user, shipping_method=method, country=address.country, coupon=form.cleaned_data["code"]
        )
    except cart_services.CartUnavailable:
        return _cart_unavailable(request)
    if preview.coupon_error:
        form.add_error("code", preview.coupon_error)
        return _review(request, coupon_form=form, status=400)
    _remember(request, coupon=preview.coupon_code)
    messages.success(request, f"Coupon {preview.coupon_code} applied.")
    return redirect("orders:checkout_review")


@login_required
@require_POST
def checkout_coupon_remove(request: HttpRequest) -> HttpResponse:
    if _choices(request).get("coupon"):
        _remember(request, coupon="")
        messages.info(request, "The coupon was removed.")
    return redirect("orders:checkout_review")


@login_required
@require_POST
def checkout_start(request: HttpRequest) -> HttpResponse:
    """ "Continue to payment": reserve the stock and price the checkout. A double submit carries the
    same key and lands on the same checkout."""
    form = StartForm(request.POST)
    address = _chosen_address(request)
    method = _chosen_method(request, selectors.shipping_methods_active())
    if address is None or method is None:
        return redirect("orders:checkout")
    if not form.is_valid():
        messages.error(request, "The form expired. Please press “Continue to payment” again.")
        return redirect("orders:checkout_review")
    try:
        checkout, _ = services.checkout_start(
            user=request.user,
            idempotency_key=form.cleaned_data["idempotency_key"],
            shipping_method=method.code,
            address_id=address.pk,
            coupon=_choices(request).get("coupon", ""),
        )
    except services.CouponInvalid as exc:
        _remember(request, coupon="")
        messages.error(request, f"{exc} The coupon was removed; check the new total.")
        return redirect("orders:checkout_review")
    except services.OutOfStock as exc:
        messages.error(
            request,
            f"Not enough units are left of {', '.join(exc.skus)}. Lower the quantity or remove the item in your cart.",
        )
        return redirect("orders:checkout_review")
    except services.EmptyCart:
        return _empty_cart(request)
    except services.FlashSaleUnavailable as exc:
        messages.error(request, str(exc))
        return redirect("orders:checkout_review")
    except services.CheckoutConflict as exc:
        messages.error(request, str(exc))
        if exc.extra.get("checkout_id"):
            return redirect("orders:checkout_pay", checkout_id=exc.extra["checkout_id"])
        return redirect("orders:checkout_review")
    except services.CheckoutExpired as exc:
        messages.error(request, str(exc))
        return redirect("orders:checkout_review")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("orders:checkout_review")
    except cart_services.CartUnavailable:
        return _cart_unavailable(request)
    return redirect("orders:checkout_pay", checkout_id=checkout.pk)


# --- paying a started checkout ---------------------------------------------------------------------


def _own_checkout(request: HttpRequest, checkout_id: int) -> Checkout:
    checkout = selectors.checkout_for_buyer(user=request.user, checkout_id=checkout_id)
    if checkout is None:
        raise Http404("No such checkout.")
    return checkout


def _packages(checkout: Checkout) -> list[dict[str, Any]]:
    lines = list(checkout.lines.all())
    return [
        {"package": package, "lines": [line for line in lines if line.seller_id == package.seller_id]}
        for package in checkout.packages.all()
    ]


def _expired(request: HttpRequest, checkout: Checkout, *, message: str = "") -> HttpResponse:
    return render(
        request,
        "orders/checkout/expired.html",
        {"checkout": checkout, "message": message, "abandoned": checkout.status == Checkout.Status.ABANDONED},
        status=410,
    )


def _pay_page(request: HttpRequest, checkout: Checkout, *, error: str = "", status: int = 200) -> HttpResponse:
    """The payment page, each of its forms with a fresh Idempotency-Key (one key per attempt). What
    was posted is never put back into the page."""
    remaining = max(int((checkout.expires_at - timezone.now()).total_seconds()), 0)
    context = {
        "checkout": checkout,
        "packages": _packages(checkout),
        "error": error,
        "remaining_seconds": remaining,
        "remaining_minutes": (remaining + 59) // 60,
        "card_key": new_key(),
        "wallet_key": new_key(),
        "bnpl_key": new_key(),
        "wallet_token": WALLET_TOKEN,
        "bnpl_token": BNPL_TOKEN,
        "step": "payment",
    }
    return render(request, "orders/checkout/pay.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def checkout_pay(request: HttpRequest, checkout_id: int) -> HttpResponse:
    checkout = _own_checkout(request, checkout_id)
    if request.method == "POST":
        return _pay(request, checkout)
    if checkout.status == Checkout.Status.PAID:
        return redirect("orders:confirmation", number=checkout.order.number)
    if checkout.status in (Checkout.Status.ABANDONED, Checkout.Status.EXPIRED) or (
        checkout.status == Checkout.Status.RESERVED and checkout.expires_at <= timezone.now()
    ):
        return _expired(request, checkout)
    if checkout.status == Checkout.Status.PAYING:
        return render(request, "orders/checkout/pending.html", {"checkout": checkout, "step": "payment"})
    if not checkout.is_priced:
        messages.error(request, "This checkout was not finished. Please continue to payment again.")
        return redirect("orders:checkout_review")
    return _pay_page(request, checkout)


def _pay(request: HttpRequest, checkout: Checkout) -> HttpResponse:
    form = PayForm(request.POST)
    if not form.is_valid():
        error = " ".join(e for errors in form.errors.values() for e in errors)
        return _pay_page(request, checkout, error=error, status=400)
    try:
        result = services.checkout_pay(
            user=request.user,
            checkout_id=checkout.pk,
            idempotency_key=form.cleaned_data["idempotency_key"],
            token=form.cleaned_data["payment_token"],
        )
    except services.InvalidPaymentToken:
        return _pay_page(request, checkout, error=CARD_NUMBER_REFUSED, status=400)
    except services.CheckoutExpired:
        return _expired(request, _own_checkout(request, checkout.pk))
    except services.CheckoutConflict as exc:
        if exc.extra.get("order_number"):
            return redirect("orders:confirmation", number=exc.extra["order_number"])
        messages.info(request, str(exc))
        return redirect("orders:checkout_pay", checkout_id=checkout.pk)
    except services.CheckoutNotFound:
        raise Http404("No such checkout.") from None
    except ValidationError as exc:
        return _pay_page(request, checkout, error=" ".join(exc.messages), status=400)
    order_number = result.body.get("order_number") or (result.order.number if result.order else "")
    if result.status_code in (200, 201) and order_number:
        return redirect("orders:confirmation", number=order_number)
    if result.status_code == 202:
        return redirect("orders:checkout_pay", checkout_id=checkout.pk)
    checkout = _own_checkout(request, checkout.pk)  # the attempt moved it; show where it stands now
    if result.error == "out_of_stock":
        return _expired(request, checkout, message=PAID_WITHOUT_STOCK)
    if checkout.status != Checkout.Status.RESERVED:
        return _expired(request, checkout)
    error, status = {
        "payment_declined": (DECLINED, 402),
        "invalid": (DETAILS_NOT_ACCEPTED, 400),
    }.get(result.error, (UNAVAILABLE, 503))
    return _pay_page(request, checkout, error=error, status=status)


@login_required
@require_POST
def checkout_abandon(request: HttpRequest, checkout_id: int) -> HttpResponse:
    try:
        services.checkout_abandon(user=request.user, checkout_id=checkout_id)
    except services.CheckoutNotFound:
        raise Http404("No such checkout.") from None
    except services.CheckoutConflict as exc:
        if exc.extra.get("order_number"):
            return redirect("orders:order_detail", number=exc.extra["order_number"])
        messages.error(request, str(exc))
        return redirect("orders:checkout_pay", checkout_id=checkout_id)
    except services.CheckoutExpired:
        messages.info(request, "That checkout had expired already; nothing is held for you.")
        return redirect("cart:detail")
    messages.success(request, "Checkout abandoned: nothing was charged and the items are no longer held for you.")
    return redirect("cart:detail")


# --- orders ----------------------------------------------------------------------------------------


def _own_order(request: HttpRequest, number: str) -> Order:
    order = selectors.order_for_buyer(user=request.user, number=number)
    if order is None:
        raise Http404("No such order.")
    return order


@never_cache
@login_required
@require_GET
def confirmation(request: HttpRequest, number: str) -> HttpResponse:
    order = _own_order(request, number)
    return render(request, "orders/confirmation.html", {"order": order, "step": "done"})


@never_cache
@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    # an order whose payment never came is not the buyer's order: left out
    orders = selectors.orders_for_buyer(user=request.user).exclude(status=Order.Status.FAILED)
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "orders/order_list.html", {"page": page, "orders": page.object_list})


def _timeline(order: Order) -> list[dict[str, Any]]:
    entries = []
    sub_labels = dict(SubOrder.Status.choices)
    order_labels = dict(Order.Status.choices)
    for event in selectors.order_timeline(order=order):
        if event.return_request_id:
            what = f"Return {event.to_status.removeprefix('return_')}"
            who = event.sub_order.seller.store_name if event.sub_order else ""
        elif event.sub_order_id:
            what = sub_labels.get(event.to_status, event.to_status.replace("_", " ")).capitalize()
            who = event.sub_order.seller.store_name
        else:
            what = f"Order {order_labels.get(event.to_status, event.to_status).lower()}"
            who = ""
        entries.append({"at": event.at, "what": what, "who": who, "note": event.note, "status": event.to_status})
    return entries


def _can_cancel(order: Order) -> bool:
    open_ones = [s for s in order.sub_orders.all() if s.status != SubOrder.Status.CANCELLED]
    return bool(open_ones) and all(s.status in states.CANCELLABLE for s in open_ones)


def _order_page(
    request: HttpRequest, order: Order, *, bound_return: ReturnForm | None = None, status: int = 200
) -> HttpResponse:
    returnable = selectors.returnable_quantities(order=order)
    return_forms = {}
    for sub_order in order.sub_orders.all():
        if sub_order.status != SubOrder.Status.DELIVERED:
            continue
        if bound_return is not None and bound_return.sub_order.pk == sub_order.pk:
            form = bound_return
        else:
            form = ReturnForm(sub_order=sub_order, returnable=returnable, prefix=f"s{sub_order.pk}")
        if form.line_fields:
            return_forms[sub_order.pk] = form
    sub_orders = [{"sub_order": s, "return_form": return_forms.get(s.pk)} for s in order.sub_orders.all()]
    sellers = {s.pk: s.seller for s in order.sub_orders.all()}
    context = {
        "order": order,
        "sub_orders": sub_orders,
        "timeline": _timeline(order),
        "can_cancel": _can_cancel(order),
        "returns": [{"return": r, "seller": sellers.get(r.sub_order_id)} for r in order.returns.all()],
        "refunds": list(order.refunds.all()),
    }
    return render(request, "orders/order_detail.html", context, status=status)


@never_cache
@login_required
@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _order_page(request, _own_order(request, number))


@login_required
@require_POST
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    order = _own_order(request, number)
    try:
        services.order_cancel(order=order, actor=request.user, reason="cancelled by the buyer")
    except services.InvalidTransition:
        messages.error(request, "This order can no longer be cancelled: part of it has shipped. Return it instead.")
    else:
        messages.success(request, "Your order is cancelled. The refund is on its way to your payment method.")
    return redirect("orders:order_detail", number=order.number)


@login_required
@require_POST
def order_return(request: HttpRequest, number: str) -> HttpResponse:
    order = _own_order(request, number)
    sub_order_id = request.POST.get("sub_order", "")
    sub_order = next((s for s in order.sub_orders.all() if str(s.pk) == sub_order_id), None)
    if sub_order is None or sub_order.status != SubOrder.Status.DELIVERED:
        messages.error(request, "Only delivered items can be returned.")
        return redirect("orders:order_detail", number=order.number)
    form = ReturnForm(
        request.POST,
        sub_order=sub_order,
        returnable=selectors.returnable_quantities(order=order),
        prefix=f"s{sub_order.pk}",
    )
    if not form.is_valid():
        return _order_page(request, order, bound_return=form, status=400)
    try:
        services.return_request(order=order, lines=form.lines(), reason=form.cleaned_data["reason"], actor=request.user)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error("reason" if field == "reason" else None, errors)
        return _order_page(request, order, bound_return=form, status=400)
    except services.InvalidTransition as exc:
        messages.error(request, str(exc))
        return redirect("orders:order_detail", number=order.number)
    messages.success(request, "Your return request is sent. The seller will approve it, then you are refunded.")
    return redirect(reverse("orders:order_detail", kwargs={"number": order.number}) + "#returns")
