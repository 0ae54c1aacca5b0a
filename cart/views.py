"""The cart's pages: the cart, and the forms that change it (the product page's add-to-cart form
posts sku + quantity to ``/cart/items/``). Thin: parse, call one service, redirect with a message."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from cart import selectors, services, web

UNAVAILABLE = "Your cart is unavailable right now. Please try again in a few minutes; browsing and search still work."
RATE_LIMITED = "You are adding to your cart too fast. Wait a minute and try again."


def _unavailable(request: HttpRequest) -> HttpResponse:
    return render(request, "cart/unavailable.html", {"status": 503, "detail": UNAVAILABLE}, status=503)


def _quantity(raw: str | None) -> int | None:
    try:
        return int((raw or "").strip())
    except ValueError:
        return None


def _back(request: HttpRequest) -> str:
    """Where a form goes after it is handled: its ``next`` field or the page it was on, if that is
    this site, else the cart."""
    for candidate in (request.POST.get("next"), request.headers.get("referer")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return reverse("cart:detail")


def _messages_of(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@require_GET
def cart_detail(request: HttpRequest) -> HttpResponse:
    try:
        cart = selectors.cart_get(owner=selectors.cart_owner_for_request(request))
    except services.CartUnavailable:
        return _unavailable(request)
    return render(request, "cart/cart.html", {"cart": cart, "max_quantity": services.max_line_quantity()})


@require_POST
def item_add(request: HttpRequest) -> HttpResponse:
    back = _back(request)
    owner = web.owner_for_write(request)
    if web.add_rate_limited(request, owner):
        messages.error(request, RATE_LIMITED)
        return redirect(back)
    quantity = _quantity(request.POST.get("quantity", "1"))
    if quantity is None:
        messages.error(request, "Enter the quantity as a whole number.")
        return redirect(back)
    try:
        services.cart_line_add(owner=owner, sku=request.POST.get("sku", ""), quantity=quantity)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
        return redirect(back)
    except services.OutOfStock:
        messages.error(request, "Sorry, not that many are available. Choose a smaller quantity.")
        return redirect(back)
    except services.CartLimitExceeded as exc:
        messages.error(request, str(exc))
        return redirect(back)
    except services.CartUnavailable:
        return _unavailable(request)
    messages.success(request, "Added to your cart.")
    return web.remember_guest(request, redirect(back), owner)


@require_POST
def item_update(request: HttpRequest, sku: str) -> HttpResponse:
    owner = selectors.cart_owner_for_request(request)
    quantity = _quantity(request.POST.get("quantity"))
    if owner is None:
        return redirect("cart:detail")
    if quantity is None:
        messages.error(request, "Enter the quantity as a whole number.")
        return redirect("cart:detail")
    try:
        services.cart_line_set(owner=owner, sku=sku, quantity=quantity)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    except services.OutOfStock:
        messages.error(request, "Sorry, not that many are available. Choose a smaller quantity.")
    except (services.CartLimitExceeded, services.CartLineNotFound) as exc:
        messages.error(request, str(exc))
    except services.CartUnavailable:
        return _unavailable(request)
    else:
        messages.success(request, "Your cart is updated." if quantity else "Removed from your cart.")
    return redirect("cart:detail")


@require_POST
def item_remove(request: HttpRequest, sku: str) -> HttpResponse:
    owner = selectors.cart_owner_for_request(request)
    if owner is None:
        return redirect("cart:detail")
    try:
        services.cart_line_remove(owner=owner, sku=sku)
    except services.CartLineNotFound:
        pass  # removed already (a second tab, a double click): the cart shows the truth
    except services.CartUnavailable:
        return _unavailable(request)
    else:
        messages.success(request, "Removed from your cart.")
    return redirect("cart:detail")
