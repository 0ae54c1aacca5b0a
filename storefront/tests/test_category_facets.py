"""Category pages with the search filters and facets: the unfiltered page keeps its cached, keyset-
paginated listing and shows facet counts over the whole category; a filter makes the page a search of
the category with disjunctive facets."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from catalog.tests.factories import BrandFactory
from search import services as search_services
from search.models import SearchDocument
from storefront.tests.conftest import make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(tree):
    """Laptops and phones of three brands, one laptop sold out; indexed for search."""
    nordic, zenith, aurora = (BrandFactory(name=n, slug=n.lower()) for n in ("Nordic", "Zenith", "Aurora"))
    products = {
        "nordic-laptop": make_product(category=tree["laptops"], title="Nordic Laptop", price="900.00", brand=nordic),
        "zenith-laptop": make_product(
            category=tree["laptops"], title="Zenith Laptop", price="1200.00", brand=zenith, stock=0
        ),
        "nordic-phone": make_product(category=tree["smartphones"], title="Nordic Phone", price="300.00", brand=nordic),
        "aurora-phone": make_product(category=tree["smartphones"], title="Aurora Phone", price="40.00", brand=aurora),
    }
    search_services.documents_rebuild_all()
    cache.clear()
    return products


def _facet_counts(html: str, facet: str) -> dict[str, int]:
    """{label: count} of one facet section of the page."""
    section = html.split(f'id="facet-{facet}"', 1)[1].split("</section>", 1)[0]
    return {
        label.strip(): int(count.replace(",", ""))
        for label, count in re.findall(
            r"</?(?:input[^>]*)?>\s*([^<]+?)</a>\s*<span class=\"facet-count\">([\d,]+)</span>", section
        )
    }


def _titles(html: str) -> set[str]:
    return {title for title in ("Nordic Laptop", "Zenith Laptop", "Nordic Phone", "Aurora Phone") if title in html}


def test_unfiltered_category_page_shows_facets_over_the_whole_category(client, shelf):
    html = client.get("/c/electronics/").content.decode()
    assert _titles(html) == {"Nordic Laptop", "Zenith Laptop", "Nordic Phone", "Aurora Phone"}
    assert _facet_counts(html, "brand") == {"Nordic": 2, "Zenith": 1, "Aurora": 1}
    assert 'href="/c/electronics/?brand=Nordic"' in html
    assert 'name="in_stock"' in html
    assert 'name="min_price"' in html
    # the subcategory's panel counts its own products
    html = client.get("/c/electronics/laptops/").content.decode()
    assert _facet_counts(html, "brand") == {"Nordic": 1, "Zenith": 1}


def test_brand_filter_lists_that_brand_and_keeps_the_other_brands_choosable(client, shelf):
    response = client.get("/c/electronics/", {"brand": "Nordic"})
    assert response.status_code == 200
    html = response.content.decode()
    assert _titles(html) == {"Nordic Laptop", "Nordic Phone"}
    # disjunctive: the brand facet ignores the brand filter, so the others can be added
    assert _facet_counts(html, "brand") == {"Nordic": 2, "Zenith": 1, "Aurora": 1}
    assert 'aria-checked="true"' in html
    html = client.get("/c/electronics/", {"brand": ["Nordic", "Aurora"]}).content.decode()
    assert _titles(html) == {"Nordic Laptop", "Nordic Phone", "Aurora Phone"}


def test_in_stock_filter_and_price_range(client, shelf):
    html = client.get("/c/electronics/", {"in_stock": "1"}).content.decode()
    assert _titles(html) == {"Nordic Laptop", "Nordic Phone", "Aurora Phone"}
    html = client.get("/c/electronics/", {"min_price": "100", "max_price": "1000"}).content.decode()
    assert _titles(html) == {"Nordic Laptop", "Nordic Phone"}
    # the brand facet counts within the price range
    assert _facet_counts(html, "brand") == {"Nordic": 2}


def test_filters_combine_with_the_subtree_and_the_sort(client, shelf):
    html = client.get("/c/electronics/phones/smartphones/", {"in_stock": "1", "sort": "price_asc"}).content.decode()
    assert _titles(html) == {"Nordic Phone", "Aurora Phone"}
    assert html.index("Aurora Phone") < html.index("Nordic Phone")
    html = client.get("/c/electronics/phones/smartphones/", {"in_stock": "1", "sort": "price_desc"}).content.decode()
    assert html.index("Nordic Phone") < html.index("Aurora Phone")


def test_best_rated_sort_stays_available_once_the_last_filter_is_removed(client, shelf):
    SearchDocument.objects.filter(product_id=shelf["nordic-phone"].pk).update(rating="4.9")
    response = client.get("/c/electronics/", {"sort": "rating"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Nordic Phone") < html.index("Aurora Phone")


def test_minimum_rating_filter_uses_the_indexed_ratings(client, shelf):
    SearchDocument.objects.filter(product_id=shelf["aurora-phone"].pk).update(rating="4.5")
    html = client.get("/c/electronics/", {"min_rating": "4"}).content.decode()
    assert _titles(html) == {"Aurora Phone"}


def test_bad_filters_get_a_400_page_with_the_errors(client, shelf):
    for params in (
        {"min_price": "-3"},
        {"max_price": "abc"},
        {"in_stock": "maybe"},
        {"brand": "x", "sort": "cheapest"},
    ):
        response = client.get("/c/electronics/", params)
        assert response.status_code == 400, params
        assert "We could not apply those filters" in response.content.decode()
    assert client.get("/c/nowhere/", {"brand": "Nordic"}).status_code == 404


def test_filtered_pages_are_not_cached_and_follow_the_index(client, shelf):
    assert "Aurora Phone" in client.get("/c/electronics/", {"in_stock": "1"}).content.decode()
    SearchDocument.objects.filter(product_id=shelf["aurora-phone"].pk).update(in_stock=False)
    assert "Aurora Phone" not in client.get("/c/electronics/", {"in_stock": "1"}).content.decode()


def test_unfiltered_page_query_budget_is_fixed_and_warm_pages_need_none(client, tree, shelf, django_assert_num_queries):
    for i in range(30):
        make_product(category=tree["laptops"], title=f"Extra {i}")
    search_services.documents_rebuild_all()
    cache.clear()
    with django_assert_num_queries(9):  # the listing's 6 and the facet panel's search (sample, row, names)
        client.get("/c/electronics/")
    with django_assert_num_queries(4):  # another sort: keys, products, variants, stock (tree, count, panel cached)
        client.get("/c/electronics/?sort=price_asc")
    with django_assert_num_queries(0):
        client.get("/c/electronics/")
