"""Filters and facets on category pages, from the search backend (``search.selectors``).

A category page without filters stays what it was: cached whole, keyset-paginated from the catalog
(storefront.fragments.category_page). Its facet panel (brand, price and rating counts over the whole
category, and the in-stock filter) is built here from one search of the category and cached on its
own for ``FACETS_TIMEOUT``, so every sort and page of the category shares it.

Once a buyer filters (``brand``, ``min_price``, ``max_price``, ``min_rating``, ``in_stock``) the page
is a search of that category with those filters, rendered for the request: results, disjunctive facets
(each counted with every filter but its own, as on the search page) and numbered pages up to
``search.selectors.MAX_PAGE``. Bad filter values get the page with the errors and a 400.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse

from search import selectors as search_selectors
from search.selectors import SearchQuery, SearchResult, Sort
from storefront import selectors, versions

FILTER_PARAMS = ("brand", "min_price", "max_price", "min_rating", "in_stock")
# The category page's sorts (catalog.selectors.ProductSort), and best rated once filtering.
SORTS = {
    "newest": "Newest first",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "rating": "Best rated",
}
DEFAULT_SORT = "newest"
SEARCH_ONLY_SORTS = {"rating"}  # the catalog's keyset listing sorts by date and price only
FACETS_TIMEOUT = 5 * 60  # how long the unfiltered pages' facet counts may lag product changes


def is_filtered(params: QueryDict) -> bool:
    """True when the request asks for a filter, or a sort only the search backend has (best rated):
    the page comes from the search backend then."""
    if params.get("sort") in SEARCH_ONLY_SORTS:
        return True
    return any(value.strip() for name in FILTER_PARAMS for value in params.getlist(name))


def _url(base: str, params: dict[str, list[str]], **changes: Any) -> str:
    """``base`` with these parameters and some replaced (None drops one); back to page 1."""
    merged = {key: list(values) for key, values in params.items() if key not in {"page", "after", "before"}}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    merged = {key: values for key, values in merged.items() if values}
    return base + ("?" + urlencode(merged, doseq=True) if merged else "")


def _facet_panel(base: str, params: dict[str, list[str]], result: SearchResult, query: SearchQuery) -> str:
    context = {
        "action": base,
        "query": query,
        **search_selectors.facet_links(result=result, query=query, url=partial(_url, base, params)),
        "approximate": result.facets.approximate,
        "clear_url": base if any(params.get(name) for name in FILTER_PARAMS) else "",
        "hidden": [
            (key, value) for key, values in params.items() if key in {"brand", "min_rating", "sort"} for value in values
        ],
    }
    return render_to_string("storefront/includes/category_facets.html", context)


def unfiltered_facets_html(path: str, url: str) -> str:
    """The facet panel of a category's unfiltered pages: counts over the whole category, from one
    search, cached on its own (every sort and page of the category shares it)."""

    def build() -> str:
        query = SearchQuery(category=path, page_size=1)
        result = search_selectors.search_products(query)
        return _facet_panel(url, {}, result, query)

    # Not scoped to the category's product events: a busy category would search again on each one.
    # The counts may lag a product change by up to FACETS_TIMEOUT; the listing itself does not.
    scopes = [versions.ALL, versions.CATEGORIES]
    return versions.cached("category.facets.v1", (path,), scopes, build, timeout=FACETS_TIMEOUT)


def _search_params(request: HttpRequest, path: str) -> QueryDict:
    """The request's parameters as the search API takes them: this category, and its sorts."""
    params = request.GET.copy()
    params["category"] = path
    params.setlist("seller", [])
    params.setlist("q", [])
    sort = params.get("sort") or DEFAULT_SORT
    params["sort"] = sort if sort in SORTS else "unknown"
    return params


def filtered_page(request: HttpRequest, path: str) -> HttpResponse:
    """A category page with filters: a search of the category, rendered for this request."""
    tree = selectors.category_tree()
    node = tree.get(path.strip("/"))
    if node is None:
        raise Http404("No such category.")
    params = {key: values for key, values in request.GET.lists() if key in {*FILTER_PARAMS, "sort", "page"}}
    context: dict[str, Any] = {
        "category": node,
        "children": tree.children(node),
        "crumbs": [("Home", reverse("storefront:home"))]
        + [(row["name"], row["url"]) for row in tree.breadcrumbs(node)],
        "page_number": 1,
        "nav_current": node["path"],
        "filtered": True,
    }
    try:
        query = search_selectors.search_query_from_params(_search_params(request, node["path"]))
    except ValidationError as error:
        errors = error.message_dict
        if "sort" in errors:
            errors["sort"] = [f"Sort by one of: {', '.join(SORTS)}."]
        context["errors"] = errors
        context["facets"] = ""
        context["grid"] = ""
        context["clear_url"] = node["url"]
        return render(request, "storefront/category.html", context, status=400)
    result = search_selectors.search_products(query)
    context["facets"] = _facet_panel(node["url"], params, result, query)
    context["grid"] = _grid_html(node["url"], params, result, query)
    context["page_number"] = query.page
    return render(request, "storefront/category.html", context)


def _grid_html(base: str, params: dict[str, list[str]], result: SearchResult, query: SearchQuery) -> str:
    last_page = min(search_selectors.MAX_PAGE, max(1, -(-result.count // query.page_size)))
    previous_url = _url(base, params, page=query.page - 1) if query.page > 1 else ""
    if query.page == 2:
        previous_url = _url(base, params)
    keep = {key: values for key, values in params.items() if key != "sort"}
    return render_to_string(
        "storefront/includes/filtered_listing.html",
        {
            "cards": [search_selectors.hit_card(hit) for hit in result.results],
            "result": result,
            "page": query.page,
            "previous_url": previous_url,
            "next_url": _url(base, params, page=query.page + 1) if query.page < last_page else "",
            "sorts": list(SORTS.items()),
            "sort": query.sort.value if query.sort is not Sort.RELEVANCE else DEFAULT_SORT,
            "hidden": [(key, value) for key, values in keep.items() for value in values],
            "action": base,
            "clear_url": base,
        },
    )
