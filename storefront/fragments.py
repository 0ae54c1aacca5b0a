"""Storefront pages as they are the same for every visitor, rendered once and cached under the versions
the catalog's and sellers' events bump (storefront.versions).

A page is cached whole, layout included, with holes where a visitor's own parts go (storefront.live):
the header's account links and cart count, the footer's account links, messages, and the product
page's buy box (live stock, CSRF token). It renders without the request (``render_to_string`` with no
request: no context processors, no CSRF token, no user, no query string), so nothing that belongs to
one visitor can end up in it; ``live.split`` refuses a page holding a CSRF token all the same.

A warm page is one cache round trip (the entry and its versions in one MGET, versions.cached) and
the visitor's parts. A product page adds its live stock to that round trip, and a web process that
served it before makes none while Redis announces no change of its versions or stock
(versions.cached_with_live, storefront.tracking). When Redis is down the page is built on
every request, exactly as it would be cached.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from sellers.models import Seller
from storefront import buy_box, category_filters, live, review_box, selectors, versions
from storefront.pagination import PageRequest, build_pager

# Grids show "Out of stock" badges, and stock changes bump no version: a badge may lag by up to this.
# A category tree change (no event announces one yet) reaches the layout of cached pages within this
# too, on top of the tree's own timeout. The product page's buy box shows the current stock figure
# (read with the page, or vouched for by Redis's invalidations: storefront.tracking); the cart reads
# stock itself.
PAGE_TIMEOUT = 5 * 60

Page = dict[str, Any]  # {"pieces": live.split(...)} and what the page's own live parts need


def _page(template: str, context: dict[str, Any]) -> tuple[str, ...]:
    """The page for everyone, cut at its holes: what the layout's context processors would add,
    but nothing of the request."""
    layout = {"SITE_NAME": settings.SITE_NAME, "nav_categories": selectors.nav_categories(), live.AS_HOLES: True}
    return live.split(render_to_string(template, {**layout, **context}))


def _home_crumb() -> tuple[str, str]:
    return ("Home", reverse("storefront:home"))


def _listing_html(listing: selectors.Listing, request: PageRequest, *, empty: str, hide_seller: bool = False) -> str:
    pager = build_pager(request, listing.page, count=listing.count, count_is_capped=listing.count_is_capped)
    return render_to_string(
        "storefront/includes/listing.html",
        {"cards": listing.cards, "pager": pager, "count": listing.count, "count_is_capped": listing.count_is_capped,
         "empty": empty, "sort": request.sort.value, "hide_seller": hide_seller},
    )  # fmt: skip


# --- pages ------------------------------------------------------------------------------------


def category_page(path: str, request: PageRequest) -> Page | None:
    """A page of a category's listing; None for no such category, or a page past the end."""
    path = path.strip("/")

    def build() -> Page | None:
        tree = selectors.category_tree()
        node = tree.get(path)
        if node is None:
            return None
        listing = selectors.category_listing(tree, node, request)
        if listing is None:
            return None
        empty = "No products in this category yet. New listings appear here as soon as sellers publish them."
        context = {
            "category": node,
            "children": tree.children(node),
            "crumbs": [_home_crumb()] + [(row["name"], row["url"]) for row in tree.breadcrumbs(node)],
            "grid": _listing_html(listing, request, empty=empty),
            "facets": category_filters.unfiltered_facets_html(node["path"], node["url"]),
            "page_number": request.number,
            "nav_current": node["path"],
        }
        return {"pieces": _page("storefront/category.html", context)}

    scopes = [versions.ALL, versions.CATEGORIES, versions.category_scope(path)]
    return versions.cached("page.category.v1", (path, *request.cache_part), scopes, build, timeout=PAGE_TIMEOUT)


def seller_page(seller: Seller, request: PageRequest) -> Page | None:
    """A page of an (approved) seller's listing; None for a page past the end."""

    def build() -> Page | None:
        listing = selectors.seller_listing(seller, request)
        if listing is None:
            return None
        empty = f"{seller.store_name} has nothing for sale right now. Come back soon."
        context = {
            "seller": seller,
            "logo_url": seller.logo.url if seller.logo else "",
            "crumbs": [_home_crumb(), (seller.store_name, "")],
            "grid": _listing_html(listing, request, empty=empty, hide_seller=True),
            "page_number": request.number,
        }
        return {"pieces": _page("storefront/seller.html", context)}

    # The seller's own words are read live (the view reads the seller on every request) and no event
    # announces their change: they are part of the key, so an edit shows at once.
    profile = (seller.store_name, seller.description, seller.return_policy, seller.logo.name or "")
    scopes = [versions.ALL, versions.CATEGORIES, versions.seller_scope(seller.pk)]
    parts = (seller.pk, *profile, *request.cache_part)
    return versions.cached("page.seller.v1", parts, scopes, build, timeout=PAGE_TIMEOUT)


def home_page() -> Page:
    def build() -> Page:
        cards = selectors.new_arrivals()
        context = {
            "categories": selectors.home_categories(),
            "new_arrivals": render_to_string("includes/product_grid.html", {"cards": cards}) if cards else "",
        }
        return {"pieces": _page("storefront/home.html", context)}

    scopes = [versions.ALL, versions.RECENT, versions.CATEGORIES]
    return versions.cached("page.home.v1", (), scopes, build, timeout=PAGE_TIMEOUT)


def content_page(template: str, context: dict[str, Any]) -> Page:
    """A page of the shop's own words (help, selling): only its layout changes, with the category tree."""

    def build() -> Page:
        return {"pieces": _page(template, context)}

    parts = (template, *sorted(context.items()))
    return versions.cached("page.content.v1", parts, [versions.CATEGORIES], build, timeout=PAGE_TIMEOUT)


def product(slug: str) -> dict[str, Any] | None:
    """The product's data as the product page and the product API show it but stock
    (selectors.product_page), or None when it is not listed (also cached: a bumped version clears it)."""
    scopes = [versions.ALL, versions.product_scope(slug), versions.reviews_scope(slug)]
    timeout = selectors.PRODUCT_TIMEOUT
    return versions.cached("product.v2", (slug,), scopes, lambda: selectors.product_page(slug), timeout=timeout)


def _product_page_build(slug: str, reviews_page: int) -> Page | None:
    data = product(slug)
    if data is None:
        return None
    reviews = selectors.product_reviews(data, reviews_page)
    if reviews is None:
        return None
    crumbs = [(crumb["name"], crumb["url"]) for crumb in data["breadcrumbs"]]
    context = {"product": data, "crumbs": [_home_crumb(), *crumbs, (data["title"], "")], **reviews}
    return {
        "pieces": _page("storefront/product.html", context),
        "buy_box": buy_box.prepare(data),
        "review_box": review_box.prepare(data),
    }


def _product_page_scopes(slug: str) -> list[str]:
    return [versions.ALL, versions.CATEGORIES, versions.product_scope(slug), versions.reviews_scope(slug)]


def product_page_with_stock(slug: str, reviews_page: int = 1) -> tuple[Page | None, dict[int, int]]:
    """The product page, with page ``reviews_page`` of its reviews and holes for the buy box
    (``buy_box``: what it shows whatever the stock, storefront.buy_box) and the visitor's review box
    (``review_box``, storefront.review_box), and the stock the buy box shows, by variant id. None
    when the product is not listed, or for a page of reviews past the last. A warm page that this
    process served before is no cache round trip while Redis announces no change of its versions or
    stock (storefront.tracking), else one: its versions and the stock figures together."""

    def stock_keys(page: Page | None) -> list[str]:
        return selectors.stock_keys(buy_box.variant_ids(page["buy_box"])) if page else []

    page, found = versions.cached_with_live(
        "page.product.v2",
        (slug, reviews_page),
        _product_page_scopes(slug),
        lambda: _product_page_build(slug, reviews_page),
        timeout=PAGE_TIMEOUT,
        live_keys=stock_keys,
        live_prefix=selectors.STOCK_KEY_PREFIX,
    )
    if page is None:
        return None, {}
    return page, selectors.variant_availability(buy_box.variant_ids(page["buy_box"]), prefetched=found)
