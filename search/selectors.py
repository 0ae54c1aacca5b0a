"""Read queries of the search app: parse and check a buyer's search parameters, run the search on the
configured backend (``SEARCH_BACKEND``), and shape the hits for the API and the page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog.models import ProductImage
from catalog.selectors import image_renditions, rendition_file_url
from search.backends import get_backend
from search.backends.base import Hit, SearchQuery, SearchResult, Sort

QUERY_MAX_LENGTH = 200  # the search box's maxlength; longer "queries" are pasted documents or attacks
MAX_PAGE = 50  # 50 pages of 24: nobody reads further, and deep offsets cost the database
DEFAULT_PAGE_SIZE = 24
MAX_PAGE_SIZE = 100
MAX_BRANDS = 20  # brand checkboxes one buyer ticks at once
MAX_PRICE = Decimal("9999999999.99")  # catalog.Product.price's column
SUGGEST_LIMIT = 10
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"", "0", "false", "no", "off"}


def _one(params: Mapping, name: str) -> str:
    getter = getattr(params, "get", None)
    value = getter(name, "") if getter else ""
    return value if isinstance(value, str) else ""


def _many(params: Mapping, name: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    values = getlist(name) if getlist else [params.get(name, "")]
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def _decimal(raw: str, name: str, errors: dict, *, maximum: Decimal) -> Decimal | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        errors[name] = ["Enter a number."]
        return None
    if not value.is_finite() or value < 0 or value > maximum:
        errors[name] = [f"Enter a number between 0 and {maximum}."]
        return None
    return value


def _integer(raw: str, name: str, errors: dict, *, default: int, maximum: int) -> int:
    raw = raw.strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= maximum:
        errors[name] = [f"Enter a whole number between 1 and {maximum}."]
        return default
    return int(raw)


def search_query_from_params(params: Mapping) -> SearchQuery:
    """A ``SearchQuery`` from request parameters (API.md), or ``ValidationError`` with a message per
    bad parameter: nothing a client sends reaches the database unchecked."""
    errors: dict[str, list[str]] = {}
    q = _one(params, "q")
    if len(q) > QUERY_MAX_LENGTH:
        errors["q"] = [f"A search is at most {QUERY_MAX_LENGTH} characters."]
    if "\x00" in q:
        errors["q"] = ["The search contains a character that is not allowed."]
    category = _one(params, "category").strip().strip("/")
    if len(category) > 400:
        errors["category"] = ["Unknown category."]
    brands = _many(params, "brand")
    if len(brands) > MAX_BRANDS or any(len(brand) > 100 for brand in brands):
        errors["brand"] = [f"Choose at most {MAX_BRANDS} brands."]
    min_price = _decimal(_one(params, "min_price"), "min_price", errors, maximum=MAX_PRICE)
    max_price = _decimal(_one(params, "max_price"), "max_price", errors, maximum=MAX_PRICE)
    if min_price is not None and max_price is not None and min_price > max_price:
        errors["max_price"] = ["The highest price is below the lowest."]
    min_rating = _decimal(_one(params, "min_rating"), "min_rating", errors, maximum=Decimal(5))
    seller = _one(params, "seller").strip()
    if len(seller) > 100:
        errors["seller"] = ["Unknown seller."]
    in_stock_raw = _one(params, "in_stock").strip().lower()
    if in_stock_raw not in TRUE_WORDS | FALSE_WORDS:
        errors["in_stock"] = ["Use 1 for products in stock only, or leave it out."]
    sort_raw = _one(params, "sort").strip() or Sort.RELEVANCE.value
    if sort_raw not in Sort._value2member_map_:
        errors["sort"] = [f"Sort by one of: {', '.join(s.value for s in Sort)}."]
        sort_raw = Sort.RELEVANCE.value
    page = _integer(_one(params, "page"), "page", errors, default=1, maximum=MAX_PAGE)
    page_size = _integer(
        _one(params, "page_size"), "page_size", errors, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE
    )
    if errors:
        raise ValidationError(errors)
    return SearchQuery(
        q=" ".join(q.split()),
        category=category,
        brands=tuple(dict.fromkeys(brands)),
        min_price=min_price,
        max_price=max_price,
        min_rating=min_rating,
        seller=seller,
        in_stock=in_stock_raw in TRUE_WORDS,
        sort=Sort(sort_raw),
        page=page,
        page_size=page_size,
    )


def search_products(query: SearchQuery) -> SearchResult:
    """One page of results with facets, on the configured backend."""
    return get_backend().search(query)


def search_suggestions(*, prefix: str, limit: int = SUGGEST_LIMIT) -> list[str]:
    """Autocomplete for the search box."""
    prefix = prefix[:QUERY_MAX_LENGTH].replace("\x00", "")
    return get_backend().suggest(prefix, limit=limit)


def product_url(slug: str) -> str:
    return reverse("storefront:product", args=[slug])


def product_url_maker() -> Callable[[str], str]:
    """``product_url`` for many slugs: the URL resolver runs once (a slug has nothing to quote)."""
    head, tail = product_url(_SLUG_PLACEHOLDER).rsplit(_SLUG_PLACEHOLDER, 1)
    return lambda slug: f"{head}{slug}{tail}"


_SLUG_PLACEHOLDER = "slug-placeholder"


def hit_thumbnail_url(hit: Hit, image_format: str = "jpeg") -> str | None:
    """The URL of the thumbnail of a hit's primary image in ``image_format`` (None for none)."""
    return rendition_file_url(hit.image, "thumbnail", image_format)


def hit_thumbnail(hit: Hit) -> dict | None:
    """The thumbnail of a hit's primary image with its URLs (None for none): the one rendition a
    result shows, so only its URLs are made."""
    if not hit.image:
        return None
    image = ProductImage(status=ProductImage.Status.READY, renditions=hit.image)
    return image_renditions(image, names=("thumbnail",)).get("thumbnail")


def hit_card(hit: Hit) -> dict[str, Any]:
    """A hit as the storefront's product card (templates/includes/product_card.html) shows it."""
    thumbnail = hit_thumbnail(hit)
    return {
        "url": product_url(hit.slug),
        "title": hit.title,
        "brand": hit.brand,
        "price": hit.price,
        "compare_at_price": None,
        "currency": hit.currency,
        "seller_name": "",
        "seller_url": "",
        "image": {**thumbnail, "alt": hit.title} if thumbnail else None,
        "in_stock": hit.in_stock,
    }


def facet_links(*, result: SearchResult, query: SearchQuery, url: Callable[..., str]) -> dict[str, list[dict]]:
    """The brand, price and rating facets of a results page as links: each option's count, whether
    the query applies it, and ``url(**changes)``, the page with the option toggled (brands) or set.
    A ticked brand that matches nothing now stays listed, so it can be unticked."""
    facets = result.facets

    def without(brand: str) -> list[str]:
        return [b for b in query.brands if b != brand]

    brands = [
        {
            "value": facet.value,
            "count": facet.count,
            "checked": facet.value in query.brands,
            "url": url(brand=without(facet.value) if facet.value in query.brands else [*query.brands, facet.value]),
        }
        for facet in facets.brand
    ]
    shown = {facet.value for facet in facets.brand}
    brands += [
        {"value": brand, "count": 0, "checked": True, "url": url(brand=without(brand))}
        for brand in query.brands
        if brand not in shown
    ]
    prices = [
        {
            "bucket": bucket,
            "checked": query.min_price == bucket.min and query.max_price == bucket.max,
            "url": url(min_price=bucket.min, max_price=bucket.max),
        }
        for bucket in facets.price
    ]
    ratings = [
        {"bucket": bucket, "checked": query.min_rating == bucket.min, "url": url(min_rating=bucket.min)}
        for bucket in facets.rating
    ]
    return {"brands": brands, "prices": prices, "ratings": ratings}
