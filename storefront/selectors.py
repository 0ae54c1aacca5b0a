"""Read queries of the storefront: what the buyer-facing pages and read endpoints show, composed from
the apps below (the catalog cannot know stock, nor, later, ratings).

Everything returned here is plain data (dicts, lists, strings, Decimals), so it caches without
pickling models and reads the same in a template and in the API. Stock is never cached: a product
page asks for its variants' availability on every request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.http import Http404, QueryDict
from django.urls import reverse

from catalog import selectors as catalog_selectors
from catalog.models import PATH_SEPARATOR, Product
from catalog.selectors import ProductSlice
from inventory.selectors import availability_for_variants, availability_key, displayed_availability_for_variants
from inventory.services import AVAILABLE_KEY_PREFIX
from reviews import selectors as reviews_selectors
from sellers.models import Seller
from sellers.selectors import seller_get_by_slug
from storefront import versions
from storefront.pagination import COUNT_CAP, PAGE_SIZE, PageRequest

# The category tree changes a few times a year, by staff, and no event announces it yet: what is built
# from it (the header's categories, cached pages) picks a change up within this and its own timeout.
CATEGORY_TREE_TIMEOUT = 5 * 60
COUNT_TIMEOUT = 60 * 60  # events make a count stale at once; the timeout only frees memory
# Events make product data stale at once; renaming a seller, brand or category announces nothing,
# so a product page shows such a rename within this.
PRODUCT_TIMEOUT = 60 * 60
NEW_ARRIVALS = 8  # two rows of four on a laptop, four rows of two on a phone


# --- categories -------------------------------------------------------------------------------


def _slug_urls(view: str) -> Callable[[str], str]:
    """``reverse(view, args=[slug])`` for many slugs (or category paths): reverse() once, then fill
    each one in. Slugs and paths need no quoting, and a tree or a grid asks hundreds of times."""
    placeholder = "slug-placeholder"
    head, _, tail = reverse(view, args=[placeholder]).partition(placeholder)
    return lambda slug: f"{head}{slug}{tail}"


def _category_rows() -> list[dict[str, Any]]:
    url = _slug_urls("storefront:category")
    fields = ("id", "name", "slug", "path", "parent_id", "parent__slug", "depth", "position", "description")
    rows = list(catalog_selectors.category_tree().values(*fields, "attribute_schema"))
    for row in rows:
        row["parent_slug"] = row.pop("parent__slug")
        if not isinstance(row["attribute_schema"], list):
            row["attribute_schema"] = []
        row["url"] = url(row["path"])
    return rows


def category_url(path: str) -> str:
    return reverse("storefront:category", args=[path])


class CategoryTree:
    """The whole category tree from the cache (one query when it is not there): lookups by path and
    id, children, breadcrumbs and subtrees, all in memory. A few hundred small dicts."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = rows  # parents before children (ordered by path)

    @cached_property
    def _by_path(self) -> dict[str, dict]:
        return {row["path"]: row for row in self.rows}

    @cached_property
    def _by_id(self) -> dict[int, dict]:
        return {row["id"]: row for row in self.rows}

    @cached_property
    def _children(self) -> dict[int | None, list[dict]]:
        children: dict[int | None, list[dict]] = {}
        for row in self.rows:
            children.setdefault(row["parent_id"], []).append(row)
        for siblings in children.values():
            siblings.sort(key=lambda row: (row["position"], row["name"]))
        return children

    def get(self, path: str) -> dict | None:
        return self._by_path.get(path.strip(PATH_SEPARATOR))

    def get_by_id(self, category_id: int) -> dict | None:
        return self._by_id.get(category_id)

    def roots(self) -> list[dict]:
        return self._children.get(None, [])

    def children(self, node: dict) -> list[dict]:
        return self._children.get(node["id"], [])

    def breadcrumbs(self, node: dict) -> list[dict]:
        """The ancestors from the root, then the node itself."""
        parts = node["path"].split(PATH_SEPARATOR)
        prefixes = [PATH_SEPARATOR.join(parts[:i]) for i in range(1, len(parts))]
        return [self._by_path[path] for path in prefixes if path in self._by_path] + [node]

    def descendant_ids(self, node: dict) -> list[int]:
        """The node's id and those of every category below it (catalog.selectors.category_descendant_ids)."""
        prefix = node["path"] + PATH_SEPARATOR
        return [node["id"]] + [row["id"] for row in self.rows if row["path"].startswith(prefix)]


def category_tree() -> CategoryTree:
    rows = versions.cached("tree.v1", (), [versions.CATEGORIES], _category_rows, timeout=CATEGORY_TREE_TIMEOUT)
    return CategoryTree(rows)


def nav_categories() -> list[dict[str, str]]:
    """The root categories for the header, as plain dicts ({"name", "path"}). Cached on their own:
    pages rendered the ordinary way (accounts, search) show them on every request, and a dozen
    small dicts load faster than the whole tree."""

    def build() -> list[dict[str, str]]:
        return [{"name": row["name"], "path": row["path"]} for row in category_tree().roots()]

    return versions.cached("nav.v1", (), [versions.CATEGORIES], build, timeout=CATEGORY_TREE_TIMEOUT)


def home_categories() -> list[dict[str, Any]]:
    """The root categories, each with its children in sibling order (``children``)."""
    tree = category_tree()
    return [{**root, "children": tree.children(root)} for root in tree.roots()]


def categories_for_api() -> list[dict[str, Any]]:
    """Every category as ``GET /api/v1/categories/`` lists it (storefront.serializers)."""
    return category_tree().rows


# --- product cards ----------------------------------------------------------------------------


def product_url(slug: str) -> str:
    return reverse("storefront:product", args=[slug])


def seller_url(slug: str) -> str:
    return reverse("storefront:seller", args=[slug])


# A card is about 280 px wide on a laptop and half the screen on a phone: the square thumbnail
# (320 px) is enough at 1x, the medium rendition (720 px, cropped square by CSS) serves 2x screens.
CARD_IMAGE_SIZES = "(max-width: 560px) 50vw, 280px"
CARD_RENDITIONS = ("thumbnail", "medium")


def _card_image(renditions: dict[str, dict]) -> dict[str, Any] | None:
    thumbnail = renditions.get("thumbnail")
    if thumbnail is None:
        return None
    image = dict(thumbnail)
    medium = renditions.get("medium")
    if medium is not None:
        for image_format in ("webp", "jpeg"):
            image[f"{image_format}_srcset"] = (
                f"{thumbnail[image_format]} {thumbnail['width']}w, {medium[image_format]} {medium['width']}w"
            )
        image["sizes"] = CARD_IMAGE_SIZES
    return image


def _cards(products: Sequence[Product]) -> list[dict[str, Any]]:
    """Product cards: what a grid shows of each product. One query (stock) on top of the products'."""
    variant_ids = [variant.pk for product in products for variant in product.variants.all()]
    available = availability_for_variants(variant_ids=variant_ids)
    product_link, seller_link = _slug_urls("storefront:product"), _slug_urls("storefront:seller")
    cards = []
    for product in products:
        variants = list(product.variants.all())  # active ones, cheapest first (catalog.selectors)
        cheapest = variants[0] if variants else None
        compare_at = cheapest.compare_at_price if cheapest else None
        image = _card_image(catalog_selectors.image_renditions(product.primary_image, CARD_RENDITIONS))
        cards.append(
            {
                "url": product_link(product.slug),
                "title": product.title,
                "brand": product.brand.name if product.brand_id else "",
                "price": product.price,
                "compare_at_price": compare_at if compare_at and compare_at > product.price else None,
                "currency": product.currency,
                "seller_name": product.seller.store_name,
                "seller_url": seller_link(product.seller.slug),
                "image": {**image, "alt": product.primary_image.alt_text or product.title} if image else None,
                "in_stock": any(available.get(variant.pk, 0) > 0 for variant in variants),
            }
        )
    return cards


@dataclass(frozen=True)
class Listing:
    """One page of product cards and what its pager needs."""

    cards: list[dict[str, Any]]
    page: ProductSlice
    count: int  # listed products in the whole listing, up to COUNT_CAP
    count_is_capped: bool


def _listing(page: ProductSlice, count: int) -> Listing:
    return Listing(_cards(page.products), page, min(count, COUNT_CAP), count > COUNT_CAP)


def _fetch_page(request: PageRequest, fetch) -> ProductSlice | None:
    page = fetch(sort=request.sort, after=request.after, before=request.before, offset=request.offset, limit=PAGE_SIZE)
    if not page.products and request.number > 1:
        return None  # past the end: the page does not exist
    return page


def _listing_count(kind: str, key: object, scope: str, count: Callable[[], int]) -> int:
    """A listing's product count, up to COUNT_CAP + 1 ("10,000+").

    Every product event in a subtree bumps its root's scope, and counting a root's 10,001 products
    reads as many rows (200 to 400 ms on 1,000,000 products): a count past the cap is therefore
    also kept under ``all`` alone, where one product more or less does not reach it. It says
    "10,000+" until ``all`` changes or it expires, even if the listing shrinks a little below the
    cap meanwhile. Smaller counts are exact under the listing's own scope. One count query at most.
    """
    counted: list[int] = []

    def count_once() -> int:
        if not counted:
            counted.append(count())
        return counted[0]

    large = versions.cached(f"count.{kind}.large.v1", (key,), [versions.ALL], count_once, timeout=COUNT_TIMEOUT)
    if large > COUNT_CAP:
        return large
    scopes = [versions.ALL, scope]
    return versions.cached(f"count.{kind}.v2", (key,), scopes, count_once, timeout=COUNT_TIMEOUT)


def category_listing(tree: CategoryTree, node: dict, request: PageRequest) -> Listing | None:
    """A page of a category's products, its descendants' included. None: no such page."""
    ids = tree.descendant_ids(node)

    def fetch(**kwargs) -> ProductSlice:
        return catalog_selectors.products_in_categories(ids, **kwargs)

    page = _fetch_page(request, fetch)
    if page is None:
        return None
    count = _listing_count(
        "category",
        node["path"],
        versions.category_scope(node["path"]),
        lambda: catalog_selectors.count_products_in_categories(ids, cap=COUNT_CAP + 1),
    )
    return _listing(page, count)


def approved_seller(slug: str) -> Seller | None:
    """A seller whose storefront page buyers may see (approved), or None. Read on every request, so
    a suspension closes the page at once."""
    seller = seller_get_by_slug(slug=slug)
    return seller if seller is not None and seller.is_approved else None


def seller_listing(seller: Seller, request: PageRequest) -> Listing | None:
    """A page of a seller's listed products. None: no such page."""

    def fetch(**kwargs) -> ProductSlice:
        return catalog_selectors.products_of_seller(seller, **kwargs)

    page = _fetch_page(request, fetch)
    if page is None:
        return None
    count = _listing_count(
        "seller",
        seller.pk,
        versions.seller_scope(seller.pk),
        lambda: catalog_selectors.count_products_of_seller(seller, cap=COUNT_CAP + 1),
    )
    return _listing(page, count)


def new_arrivals() -> list[dict[str, Any]]:
    return _cards(catalog_selectors.new_arrivals(limit=NEW_ARRIVALS))


# --- product page -----------------------------------------------------------------------------


def _humanize(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def _display_value(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(_display_value(v) for v in value)
    return str(value)


def display_attributes(attributes: dict) -> dict[str, str]:
    return {name: _display_value(value) for name, value in attributes.items()}


def _variant_options(variants: list[dict]) -> list[dict[str, Any]]:
    """The attributes buyers choose between (size, colour), each with its values in first-seen order."""
    options: dict[str, list[str]] = {}
    for variant in variants:
        for name, value in variant["attributes"].items():
            values = options.setdefault(name, [])
            if _display_value(value) not in values:
                values.append(_display_value(value))
    return [{"name": name, "label": _humanize(name), "values": values} for name, values in options.items()]


def product_page(slug: str) -> dict[str, Any] | None:
    """Everything the product page and the product API show but stock: None when it is not listed."""
    product = catalog_selectors.product_detail(slug=slug)
    if product is None:
        return None
    tree = category_tree()
    node = tree.get_by_id(product.category_id)
    if node is None:  # a category newer than the cached tree
        crumbs = [{"name": product.category.name, "url": category_url(product.category.path)}]
    else:
        crumbs = [{"name": row["name"], "url": row["url"]} for row in tree.breadcrumbs(node)]
    variants = [
        {
            "id": variant.pk,
            "sku": variant.sku,
            "price": variant.price,
            "compare_at_price": variant.compare_at_price
            if variant.compare_at_price and variant.compare_at_price > variant.price
            else None,
            "currency": variant.currency,
            "attributes": variant.attributes if isinstance(variant.attributes, dict) else {},
            "label": " / ".join(_display_value(v) for v in (variant.attributes or {}).values()) or variant.sku,
            "attributes_json": json.dumps(display_attributes(variant.attributes or {}), ensure_ascii=False),
        }
        for variant in product.variants.all()
    ]
    images = []
    for image in product.images.all():
        renditions = catalog_selectors.image_renditions(image)
        if {"thumbnail", "medium", "large"} <= renditions.keys():
            images.append({**renditions, "alt": image.alt_text or product.title})
    prices = [variant["price"] for variant in variants]
    attributes = product.attributes if isinstance(product.attributes, dict) else {}
    return {
        "id": product.pk,
        "slug": product.slug,
        "url": product_url(product.slug),
        "title": product.title,
        "description": product.description,
        "brand": product.brand.name if product.brand_id else None,
        "category": {"slug": product.category.slug, "path": product.category.path, "name": product.category.name},
        "breadcrumbs": crumbs,
        "seller": {
            "id": product.seller_id,
            "user_id": product.seller.user_id,  # the review box tells the seller it cannot review its own
            "slug": product.seller.slug,
            "name": product.seller.store_name,
            "url": seller_url(product.seller.slug),
        },
        "attributes": attributes,
        "attribute_rows": [{"label": _humanize(name), "value": _display_value(v)} for name, v in attributes.items()],
        "images": images,
        "variants": variants,
        "options": _variant_options(variants),
        "currency": variants[0]["currency"] if variants else product.currency,
        "min_price": min(prices) if prices else None,
        "max_price": max(prices) if prices else None,
        "rating": reviews_selectors.product_rating(product_id=product.pk),  # the stored aggregate: one query
    }


def variant_availability(
    variant_ids: Iterable[int], *, prefetched: Mapping[str, object] | None = None
) -> dict[int, int]:
    """Units of each variant that can be bought now, by variant id, as pages show them: inventory's
    write-through copy in Redis (one round trip, or none when ``prefetched`` holds what the cache
    answered for ``stock_keys``), the database for what it does not hold."""
    return displayed_availability_for_variants(variant_ids=variant_ids, prefetched=prefetched)


def stock_keys(variant_ids: Iterable[int]) -> list[str]:
    """The cache keys of the stock figures ``variant_availability`` reads (all under ``STOCK_KEY_PREFIX``)."""
    return [availability_key(variant_id) for variant_id in variant_ids]


STOCK_KEY_PREFIX = AVAILABLE_KEY_PREFIX


# --- product reviews ----------------------------------------------------------------------------

REVIEWS_PAGE_SIZE = 10
MAX_REVIEWS_PAGE = 500  # 5,000 reviews deep; bounds the pages a crawler can make the cache hold


def parse_reviews_page(params: QueryDict) -> int:
    """The page of reviews a product URL asks for (``?reviews=N``). Http404 for a malformed one."""
    raw = params.get("reviews")
    if raw is None:
        return 1
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw[:6]) <= MAX_REVIEWS_PAGE:
        raise Http404("no such page of reviews")
    return int(raw)


def product_reviews(product: dict[str, Any], number: int) -> dict[str, Any] | None:
    """Page ``number`` of the product's published reviews and its pager, for the product page: one
    query whatever the number of reviews (the count comes from the stored rating). None for a page
    past the last."""
    count = product["rating"]["count"]
    pages = max(1, -(-count // REVIEWS_PAGE_SIZE))
    if number > pages:
        return None
    reviews = reviews_selectors.product_reviews_page(
        product_id=product["id"], number=number, page_size=REVIEWS_PAGE_SIZE
    )

    def url(n: int) -> str:
        return ("./" if n == 1 else f"?reviews={n}") + "#reviews"

    pager = {
        "number": number,
        "pages": pages,
        "previous_url": url(number - 1) if number > 1 else None,
        "next_url": url(number + 1) if number < pages else None,
    }
    return {"reviews": reviews, "reviews_pager": pager}
