"""The search results page (/search/): the same parameters and results as the API, as HTML."""

from __future__ import annotations

from functools import partial
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from search import selectors, services
from search.backends.base import Sort

SORT_LABELS = {
    Sort.RELEVANCE: "Best match",
    Sort.PRICE_ASC: "Price: low to high",
    Sort.PRICE_DESC: "Price: high to low",
    Sort.RATING: "Best rated",
    Sort.NEWEST: "Newest first",
}


def _url(request: HttpRequest, **changes) -> str:
    """This page's URL with some parameters replaced (None drops one); any change goes back to page 1."""
    params = {key: values for key, values in request.GET.lists() if key != "page"}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value if isinstance(value, list) else [str(value)]
    return "?" + urlencode(params, doseq=True)


def search_page(request: HttpRequest) -> HttpResponse:
    try:
        query = selectors.search_query_from_params(request.GET)
    except ValidationError as error:
        context = {"errors": error.message_dict, "q": request.GET.get("q", "")[: selectors.QUERY_MAX_LENGTH]}
        return render(request, "search/results.html", context, status=400)
    result = selectors.search_products(query)
    if query.q and query.page == 1 and result.count:
        services.popular_query_record(query=result.suggestion or query.q)
    last_page = min(selectors.MAX_PAGE, max(1, -(-result.count // query.page_size)))
    context = {
        "query": query,
        "q": query.q,
        "result": result,
        "cards": [selectors.hit_card(hit) for hit in result.results],
        **selectors.facet_links(result=result, query=query, url=partial(_url, request)),
        "categories": [
            {"label": facet.label, "count": facet.count, "url": _url(request, category=facet.value)}
            for facet in result.facets.category
        ],
        "category_clear_url": _url(request, category=None) if query.category else "",
        "sorts": [(sort.value, label) for sort, label in SORT_LABELS.items()],
        "suggestion_url": _url(request, q=result.suggestion) if result.suggestion else "",
        "page": query.page,
        "last_page": last_page,
        "previous_url": _url(request, page=query.page - 1) if query.page > 1 else "",
        "next_url": _url(request, page=query.page + 1) if query.page < last_page else "",
        "hidden_filters": [
            (key, value)
            for key, values in request.GET.lists()
            if key not in {"sort", "page", "min_price", "max_price", "in_stock"}
            for value in values
        ],
    }
    return render(request, "search/results.html", context)
