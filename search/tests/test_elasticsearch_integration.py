"""The PostgreSQL backend's behaviour tests, run against a real Elasticsearch (README: "Search").

Set ``ELASTICSEARCH_URL`` (e.g. ``http://127.0.0.1:9200``) to run them; each test works in an index
alias of its own and deletes its indexes afterwards. The tests of ``test_api`` change ratings, sales
and dates straight in the ``SearchDocument`` table (standing in for the events that will carry them),
so for those the index is synced from the table before each search. The tests of ``test_indexing``
go the real way: catalogue service -> outbox event -> handler -> Celery task (eager) -> Elasticsearch.
"""

from __future__ import annotations

import os
import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from search import documents
from search.backends import elasticsearch
from search.models import SearchDocument
from search.tests import test_api, test_indexing
from search.tests.conftest import slugs

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("ELASTICSEARCH_URL"),
        reason="set ELASTICSEARCH_URL to run the Elasticsearch integration tests (see README)",
    ),
    pytest.mark.django_db,
    pytest.mark.urls("search.tests.urls"),
]

# What the PostgreSQL backend shows, re-run here. Left out: tests of PostgreSQL's own mechanisms
# (its sampled facets, the vocabulary table, tsvector weights) and word-completion from its vocabulary.
BEHAVIOUR_TESTS = [
    # prefix, typos and "did you mean"
    test_api.test_last_word_matches_as_prefix_so_app_finds_apple_juice,
    test_api.test_misspelt_query_finds_the_product_and_suggests_the_correction,
    test_api.test_transposed_letters_are_corrected,
    test_api.test_result_carries_the_fields_of_the_api,
    # ranking
    test_api.test_title_match_ranks_above_description_match,
    test_api.test_brand_and_category_names_are_searchable,
    test_api.test_sponsored_product_ranks_first_while_its_placement_runs,
    test_api.test_popular_product_ranks_above_an_equal_match,
    # filters
    test_api.test_category_filter_includes_descendants,
    test_api.test_brand_filter_takes_several_brands,
    test_api.test_price_range_filter_is_inclusive,
    test_api.test_min_rating_filter,
    test_api.test_seller_filter_takes_the_seller_slug,
    test_api.test_in_stock_filter_leaves_out_sold_out_products,
    # sorts and pages
    test_api.test_sort_by_price_both_ways,
    test_api.test_sort_newest_first,
    test_api.test_sort_by_rating,
    test_api.test_pages_split_the_results_and_count_them_all,
    # facets
    test_api.test_facets_count_the_matches,
    test_api.test_brand_facet_ignores_its_own_filter_but_applies_the_others,
    test_api.test_price_facet_ignores_the_price_filter,
    test_api.test_category_facet_lists_children_of_the_chosen_category,
    test_api.test_rating_facet_counts_products_at_or_above_each_step,
    # input and autocomplete
    test_api.test_query_syntax_oddities_never_fail,
    test_api.test_suggest_offers_popular_queries_first,
    test_api.test_suggest_for_nothing_is_empty_and_too_long_is_400,
]
INDEXING_TESTS = [
    test_indexing.test_new_product_is_searchable_once_its_event_is_relayed,
    test_indexing.test_draft_is_not_indexed_until_it_is_published,
    test_indexing.test_changed_title_is_searched_by_its_new_words,
    test_indexing.test_archived_product_leaves_the_index,
    test_indexing.test_suspended_sellers_products_leave_the_index_and_return_on_reinstatement,
    test_indexing.test_stock_change_updates_in_stock,
]
# Collected here under their own names, with this module's fixtures.
globals().update({test.__name__: test for test in BEHAVIOUR_TESTS + INDEXING_TESTS})


@pytest.fixture(autouse=True)
def elasticsearch_backend(settings, monkeypatch, request):
    """The Elasticsearch backend on an alias of this test's own, created empty; dropped afterwards."""
    settings.SEARCH_BACKEND = "elasticsearch"
    settings.ELASTICSEARCH_URL = os.environ["ELASTICSEARCH_URL"]
    settings.SEARCH_ELASTICSEARCH_REFRESH = "wait_for"  # a synced change is searchable when the task returns
    alias = f"shop-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(documents, "INDEX_ALIAS", alias)
    elasticsearch.index_rebuild()
    if request.function.__module__ == test_api.__name__:
        search = elasticsearch.ElasticsearchBackend.search

        def search_after_sync(backend, query):
            product_ids = list(SearchDocument.objects.values_list("product_id", flat=True))
            elasticsearch.documents_sync(product_ids=product_ids)
            return search(backend, query)

        monkeypatch.setattr(elasticsearch.ElasticsearchBackend, "search", search_after_sync)
    yield alias
    elasticsearch.client().indices.delete(index=f"{alias}-*", ignore_unavailable=True, allow_no_indices=True)


@pytest.fixture
def shelf(shelf):
    """conftest's shelf, loaded into Elasticsearch the way ``search_reindex`` does it."""
    elasticsearch.index_rebuild()
    return shelf


def test_reindex_swaps_the_alias_to_a_new_index_and_drops_the_old_one(shelf, search_api, elasticsearch_backend):
    es = elasticsearch.client()
    before = set(es.indices.get_alias(name=elasticsearch_backend).body)
    out = StringIO()
    call_command("search_reindex", backend="elasticsearch", stdout=out)
    after = set(es.indices.get_alias(name=elasticsearch_backend).body)
    assert len(after) == 1
    assert after.isdisjoint(before)
    assert not es.indices.exists(index=",".join(before), allow_no_indices=True, ignore_unavailable=True).body
    assert "is live" in out.getvalue()
    assert set(slugs(search_api(q="juice"))) >= {"apple-juice", "orange-juice"}


def test_suggest_completes_titles_brands_and_categories(shelf, api_client):
    def suggestions(q):
        return [s.lower() for s in api_client.get("/api/v1/search/suggest/", {"q": q}).json()["suggestions"]]

    assert "apple juice" in suggestions("app")
    assert "orchard" in suggestions("orch")
    assert "drinks" in suggestions("dri")
