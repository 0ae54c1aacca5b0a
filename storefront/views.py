"""Buyer-facing pages that compose several domains: home, category, product and seller pages, and the
shop's own content pages.

Each page comes from the cache as it is for everyone (storefront.fragments), with holes that are
filled for each request with the visitor's own parts (storefront.live): header, account links, cart
count, messages, CSRF tokens, and on the product page the buy box with live stock.
"""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static

from storefront import buy_box, category_filters, fragments, live, review_box, selectors
from storefront.pagination import parse_page_request


def home(request: HttpRequest) -> HttpResponse:
    return live.respond(request, fragments.home_page()["pieces"])


def category(request: HttpRequest, path: str) -> HttpResponse:
    if category_filters.is_filtered(request.GET):  # a search of the category (storefront.category_filters)
        return category_filters.filtered_page(request, path)
    page = fragments.category_page(path, parse_page_request(request.GET))
    if page is None:
        raise Http404("No such category, or no such page of it.")
    return live.respond(request, page["pieces"])


def product(request: HttpRequest, slug: str) -> HttpResponse:
    page, available = fragments.product_page_with_stock(slug, selectors.parse_reviews_page(request.GET))
    if page is None:
        raise Http404("No listed product has this address, or no such page of its reviews.")
    box = page["buy_box"]  # the stock is live: read with the page's versions, never cached with it

    def render_buy_box(visitor: live.Visitor) -> str:
        return buy_box.render(box, available, visitor.csrf_input)

    def render_review_box(visitor: live.Visitor) -> str:
        return review_box.render(page["review_box"], visitor)  # a signed-in visitor: one query

    return live.respond(request, page["pieces"], {"buy_box": render_buy_box, "review_box": render_review_box})


def seller(request: HttpRequest, slug: str) -> HttpResponse:
    store = selectors.approved_seller(slug)  # read live: a suspension closes the page at once
    if store is None:
        raise Http404("No seller has a storefront at this address.")
    page = fragments.seller_page(store, parse_page_request(request.GET))
    if page is None:
        raise Http404("There is no such page of this listing.")
    return live.respond(request, page["pieces"])


def help_page(request: HttpRequest) -> HttpResponse:
    page = fragments.content_page("storefront/help.html", {"support_email": _support_email()})
    return live.respond(request, page["pieces"])


def sell_page(request: HttpRequest) -> HttpResponse:
    page = fragments.content_page("storefront/sell.html", {"support_email": _support_email()})
    return live.respond(request, page["pieces"])


def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico whatever the page declares; a redirect is cheaper than a 404 page.
    return redirect(static("img/favicon.svg"))


def _support_email() -> str:
    # SUPPORT_EMAIL when the operator sets one, else the address the shop's mail comes from.
    configured = getattr(settings, "SUPPORT_EMAIL", "") or settings.DEFAULT_FROM_EMAIL
    return parseaddr(configured)[1]
