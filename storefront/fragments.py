"""The parts of storefront pages that are the same for every visitor, rendered once and cached under
the versions the catalog's and sellers' events bump (storefront.versions).

They render without the request (``render_to_string`` with no request: no context processors, no
CSRF token, no user), so nothing that belongs to one visitor can end up in them. The page around
them, with its header, account links, cart count and forms, renders live on every request.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.template.loader import render_to_string

from sellers.models import Seller
from storefront import selectors, versions
from storefront.pagination import PageRequest, build_pager

# Grids show "Out of stock" badges, and stock changes announce nothing (yet): a badge may lag by up
# to this. The product page and the cart always read stock live.
LISTING_TIMEOUT = 5 * 60


def _listing_html(
    listing: selectors.Listing | None, request: PageRequest, *, empty: str, hide_seller: bool = False
) -> str | None:
    if listing is None:
        return None
    pager = build_pager(request, listing.page, count=listing.count, count_is_capped=listing.count_is_capped)
    return render_to_string(
        "storefront/includes/listing.html",
        {"cards": listing.cards, "pager": pager, "count": listing.count, "count_is_capped": listing.count_is_capped,
         "empty": empty, "sort": request.sort.value, "hide_seller": hide_seller},
    )  # fmt: skip


def _found(html: str | None) -> str:
    if html is None:
        raise Http404("There is no such page of this listing.")
    return html


def category_grid(tree: selectors.CategoryTree, node: dict, request: PageRequest) -> str:
    """The product grid and pager of a category page. Http404 for a page past the end."""
    scopes = [versions.ALL, versions.category_scope(node["id"])]
    empty = "No products in this category yet. New listings appear here as soon as sellers publish them."
    return _found(
        versions.cached(
            "grid.category.v1",
            (node["id"], *request.cache_part),
            scopes,
            lambda: _listing_html(selectors.category_listing(tree, node, request), request, empty=empty),
            timeout=LISTING_TIMEOUT,
        )
    )


def seller_grid(seller: Seller, request: PageRequest) -> str:
    """The product grid and pager of a seller's page. Http404 for a page past the end."""
    scopes = [versions.ALL, versions.seller_scope(seller.pk)]
    empty = f"{seller.store_name} has nothing for sale right now. Come back soon."
    return _found(
        versions.cached(
            "grid.seller.v1",
            (seller.pk, *request.cache_part),
            scopes,
            lambda: _listing_html(selectors.seller_listing(seller, request), request, empty=empty, hide_seller=True),
            timeout=LISTING_TIMEOUT,
        )
    )


def new_arrivals() -> str:
    """The home page's grid of the newest products ("" when there are none)."""

    def build() -> str:
        cards = selectors.new_arrivals()
        return render_to_string("includes/product_grid.html", {"cards": cards}) if cards else ""

    return versions.cached("grid.new.v1", (), [versions.ALL, versions.RECENT], build, timeout=LISTING_TIMEOUT)


def _product_entry(slug: str) -> dict[str, Any] | None:
    product = selectors.product_page(slug)
    if product is None:
        return None
    context = {"product": product}
    return {
        "data": product,
        "gallery": render_to_string("storefront/includes/product_gallery.html", context),
        "details": render_to_string("storefront/includes/product_details.html", context),
    }


def product(slug: str) -> dict[str, Any] | None:
    """The product page's data (``data``, also what the API answers) and its rendered gallery and
    details, or None when the product is not listed (also cached: a bumped version clears it)."""
    scopes = [versions.ALL, versions.product_scope(slug)]
    timeout = selectors.PRODUCT_TIMEOUT
    return versions.cached("product.v1", (slug,), scopes, lambda: _product_entry(slug), timeout=timeout)
