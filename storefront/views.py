"""Buyer-facing pages that compose several domains: home, category, product and seller pages, and the
shop's own content pages.

Each page renders its visitor's parts live (header, account links, cart count, CSRF tokens, stock)
around fragments that are the same for everyone and come from the cache (storefront.fragments).
"""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse

from storefront import fragments, selectors
from storefront.pagination import parse_page_request


def _home_crumb() -> tuple[str, str]:
    return ("Home", reverse("storefront:home"))


def home(request: HttpRequest) -> HttpResponse:
    context = {"categories": selectors.home_categories(), "new_arrivals": fragments.new_arrivals()}
    return render(request, "storefront/home.html", context)


def category(request: HttpRequest, path: str) -> HttpResponse:
    tree = selectors.category_tree()
    node = tree.get(path)
    if node is None:
        raise Http404("No such category.")
    page_request = parse_page_request(request.GET)
    context = {
        "category": node,
        "children": tree.children(node),
        "crumbs": [_home_crumb()] + [(row["name"], row["url"]) for row in tree.breadcrumbs(node)],
        "grid": fragments.category_grid(tree, node, page_request),
        "page_number": page_request.number,
    }
    return render(request, "storefront/category.html", context)


def product(request: HttpRequest, slug: str) -> HttpResponse:
    entry = fragments.product(slug)
    if entry is None:
        raise Http404("No listed product has this address.")
    data = entry["data"]
    crumbs = [(crumb["name"], crumb["url"]) for crumb in data["breadcrumbs"]]
    context = {
        "product": data,
        "crumbs": [_home_crumb(), *crumbs, (data["title"], "")],
        "gallery": entry["gallery"],
        "details": entry["details"],
        "buy": selectors.buy_box(data),
    }
    return render(request, "storefront/product.html", context)


def seller(request: HttpRequest, slug: str) -> HttpResponse:
    store = selectors.approved_seller(slug)
    if store is None:
        raise Http404("No seller has a storefront at this address.")
    page_request = parse_page_request(request.GET)
    context = {
        "seller": store,
        "logo_url": store.logo.url if store.logo else "",
        "crumbs": [_home_crumb(), (store.store_name, "")],
        "grid": fragments.seller_grid(store, page_request),
        "page_number": page_request.number,
    }
    return render(request, "storefront/seller.html", context)


def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/help.html", {"support_email": _support_email()})


def sell_page(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/sell.html", {"support_email": _support_email()})


def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico whatever the page declares; a redirect is cheaper than a 404 page.
    return redirect(static("img/favicon.svg"))


def _support_email() -> str:
    # SUPPORT_EMAIL when the operator sets one, else the address the shop's mail comes from.
    configured = getattr(settings, "SUPPORT_EMAIL", "") or settings.DEFAULT_FROM_EMAIL
    return parseaddr(configured)[1]
