"""The Elasticsearch backend's request bodies and response reading, without a server: the mapping,
queries, filters, disjunctive facet aggregations and suggesters compared with the JSON they must be."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from search.backends.base import PriceBucket, RatingBucket, SearchQuery, Sort
from search.backends.elasticsearch import (
    build_search_body,
    build_suggest_body,
    document_source,
    index_mapping,
    result_from_response,
    suggestion_from_response,
)
from search.models import SearchDocument

WEIGHTS = {
    "field_weights": [0.1, 0.2, 0.4, 1.0],
    "sales_velocity": 0.3,
    "views": 0.05,
    "rating": 0.3,
    "seller_rating": 0.1,
    "sponsored": 1.5,
}
BY_COUNT = [{"_count": "desc"}, {"_key": "asc"}]
SOURCE = ["product_id", "slug", "title", "brand", "price", "currency", "rating", "in_stock", "seller_id", "image"]
TYPO_FIELDS = ["title", "brand.text", "category_names", "attributes"]
PRICE_RANGES = [
    {"key": "0", "from": 0, "to": 10},
    {"key": "1", "from": 10, "to": 25},
    {"key": "2", "from": 25, "to": 50},
    {"key": "3", "from": 50, "to": 100},
    {"key": "4", "from": 100, "to": 250},
    {"key": "5", "from": 250, "to": 500},
    {"key": "6", "from": 500, "to": 1000},
    {"key": "7", "from": 1000},
]
RATING_RANGES = [{"key": "4", "from": 4}, {"key": "3", "from": 3}, {"key": "2", "from": 2}, {"key": "1", "from": 1}]
SPELLING = {
    "term": {
        "field": "spelling",
        "suggest_mode": "missing",
        "sort": "score",
        "min_word_length": 3,
        "max_edits": 2,
        "size": 1,
    }
}


def scored(query: dict) -> dict:
    """The ranking wrapper every query gets: popularity and quality summed, sponsorship multiplied."""
    return {
        "function_score": {
            "query": {
                "function_score": {
                    "query": query,
                    "functions": [
                        {"weight": 1},
                        {
                            "field_value_factor": {"field": "sales_velocity", "modifier": "ln1p", "missing": 0},
                            "weight": 0.3,
                        },
                        {"field_value_factor": {"field": "views", "modifier": "ln1p", "missing": 0}, "weight": 0.05},
                        {"field_value_factor": {"field": "rating", "factor": 0.2, "missing": 0}, "weight": 0.3},
                        {
                            "field_value_factor": {"field": "seller_rating", "factor": 0.2, "missing": 0},
                            "weight": 0.1,
                        },
                    ],
                    "score_mode": "sum",
                    "boost_mode": "multiply",
                }
            },
            "functions": [
                {
                    "filter": {
                        "bool": {
                            "filter": [{"range": {"sponsored_until": {"gt": "now"}}}],
                            "must_not": [{"range": {"sponsored_from": {"gt": "now"}}}],
                        }
                    },
                    "weight": 1.5,
                }
            ],
            "boost_mode": "multiply",
        }
    }


def aggregations(*, brand=None, category=None, price=None, rating=None, include="[^/]+") -> dict:
    def facet(filter_, aggregation):
        return {"filter": filter_ or {"match_all": {}}, "aggs": {"values": aggregation}}

    return {
        "facet_brand": facet(brand, {"terms": {"field": "brand", "size": 20, "order": BY_COUNT}}),
        "facet_category": facet(
            category,
            {"terms": {"field": "category_lineage", "size": 30, "include": include, "order": BY_COUNT}},
        ),
        "facet_price": facet(price, {"range": {"field": "price", "ranges": PRICE_RANGES}}),
        "facet_rating": facet(rating, {"range": {"field": "rating", "ranges": RATING_RANGES}}),
    }


def body(query: SearchQuery, **kwargs) -> dict:
    return build_search_body(query, weights=WEIGHTS, **kwargs)


# --- whole bodies --------------------------------------------------------------------------------


def test_browsing_without_query_or_filters_ranks_by_popularity_alone():
    assert body(SearchQuery()) == {
        "query": scored({"bool": {"must": [{"match_all": {}}]}}),
        "sort": ["_score", {"product_id": "desc"}],
        "from": 0,
        "size": 24,
        "track_total_hits": 1_000,
        "_source": SOURCE,
        "aggs": aggregations(),
    }


def test_single_word_query_matches_exactly_or_with_typos_or_as_a_prefix_and_asks_for_spelling():
    assert body(SearchQuery(q="Juice")) == {
        "query": scored(
            {
                "bool": {
                    "must": [
                        {
                            "bool": {
                                "should": [
                                    {
                                        "multi_match": {
                                            "query": "juice",
                                            "type": "cross_fields",
                                            "fields": [
                                                "title^10",
                                                "brand.text^4",
                                                "category_names^4",
                                                "attributes^2",
                                                "description^1",
                                            ],
                                            "operator": "and",
                                        }
                                    },
                                    {
                                        "bool": {
                                            "must": [
                                                {
                                                    "bool": {
                                                        "should": [
                                                            {
                                                                "multi_match": {
                                                                    "query": "juice",
                                                                    "fields": TYPO_FIELDS,
                                                                    "fuzziness": "AUTO",
                                                                    "prefix_length": 1,
                                                                }
                                                            },
                                                            {
                                                                "match": {
                                                                    "title.ngram": {
                                                                        "query": "juice",
                                                                        "minimum_should_match": "-34%",
                                                                    }
                                                                }
                                                            },
                                                            {
                                                                "multi_match": {
                                                                    "query": "juice",
                                                                    "type": "phrase_prefix",
                                                                    "fields": TYPO_FIELDS,
                                                                }
                                                            },
                                                        ],
                                                        "minimum_should_match": 1,
                                                    }
                                                }
                                            ],
                                            "boost": 0.5,
                                        }
                                    },
                                ],
                                "minimum_should_match": 1,
                            }
                        }
                    ]
                }
            }
        ),
        "sort": ["_score", {"product_id": "desc"}],
        "from": 0,
        "size": 24,
        "track_total_hits": 1_000,
        "_source": SOURCE,
        "aggs": aggregations(),
        "suggest": {"text": "juice", "spelling": SPELLING},
    }


def test_filters_and_sort_without_query_put_facet_filters_in_the_post_filter():
    query = SearchQuery(
        category="food/drinks",
        brands=("Leafy", "Orchard"),
        min_price=Decimal("2.50"),
        max_price=Decimal("20"),
        min_rating=Decimal("4"),
        seller="tea-house",
        in_stock=True,
        sort=Sort.PRICE_ASC,
        page=3,
        page_size=10,
    )
    category = {"term": {"category_lineage": "food/drinks"}}
    brand = {"terms": {"brand": ["Leafy", "Orchard"]}}
    price = {"range": {"price": {"gte": "2.50", "lte": 20}}}
    rating = {"range": {"rating": {"gte": 4}}}
    assert body(query, seller_ids=[7]) == {
        "query": scored(
            {
                "bool": {
                    "must": [{"match_all": {}}],
                    "filter": [{"terms": {"seller_id": [7]}}, {"term": {"in_stock": True}}],
                }
            }
        ),
        "sort": [{"price": "asc"}, {"product_id": "asc"}],
        "from": 20,
        "size": 10,
        "track_total_hits": 1_000,
        "_source": SOURCE,
        "aggs": aggregations(
            brand={"bool": {"filter": [category, price, rating]}},
            category={"bool": {"filter": [brand, price, rating]}},
            price={"bool": {"filter": [category, brand, rating]}},
            rating={"bool": {"filter": [category, brand, price]}},
            include="food/drinks/[^/]+",
        ),
        "post_filter": {"bool": {"filter": [category, brand, price, rating]}},
    }


# --- targeted ------------------------------------------------------------------------------------


def test_brand_facet_aggregation_ignores_the_brand_filter_but_keeps_the_others():
    aggs = body(SearchQuery(q="tea", category="food", brands=("Leafy",)))["aggs"]
    assert aggs["facet_brand"]["filter"] == {"bool": {"filter": [{"term": {"category_lineage": "food"}}]}}
    assert aggs["facet_category"]["filter"] == {"bool": {"filter": [{"terms": {"brand": ["Leafy"]}}]}}
    assert aggs["facet_price"]["filter"]["bool"]["filter"] == [
        {"term": {"category_lineage": "food"}},
        {"terms": {"brand": ["Leafy"]}},
    ]


def test_seller_and_in_stock_filter_the_query_so_every_facet_counts_them():
    built = body(SearchQuery(seller="nobody", in_stock=True), seller_ids=[])
    assert built["query"]["function_score"]["query"]["function_score"]["query"]["bool"]["filter"] == [
        {"terms": {"seller_id": []}},  # an unknown seller matches nothing
        {"term": {"in_stock": True}},
    ]
    assert "post_filter" not in built


@pytest.mark.parametrize(
    ("params", "post_filter"),
    [
        ({"category": "electronics"}, {"term": {"category_lineage": "electronics"}}),
        ({"brands": ("Volt",)}, {"terms": {"brand": ["Volt"]}}),
        ({"min_price": Decimal("4")}, {"range": {"price": {"gte": 4}}}),
        ({"max_price": Decimal("9.99")}, {"range": {"price": {"lte": "9.99"}}}),
        ({"min_rating": Decimal("3.5")}, {"range": {"rating": {"gte": "3.5"}}}),
    ],
)
def test_each_facet_filter_is_a_post_filter_clause(params, post_filter):
    assert body(SearchQuery(**params))["post_filter"] == {"bool": {"filter": [post_filter]}}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (Sort.RELEVANCE, ["_score", {"product_id": "desc"}]),
        (Sort.PRICE_ASC, [{"price": "asc"}, {"product_id": "asc"}]),
        (Sort.PRICE_DESC, [{"price": "desc"}, {"product_id": "desc"}]),
        (Sort.RATING, [{"rating": "desc"}, "_score", {"product_id": "desc"}]),
        (Sort.NEWEST, [{"created_at": "desc"}, {"product_id": "desc"}]),
    ],
)
def test_sorts_end_with_the_product_id_so_pages_are_stable(sort, expected):
    assert body(SearchQuery(q="tea", sort=sort))["sort"] == expected


def test_deep_pages_stop_at_the_result_window():
    assert (body(SearchQuery(page=50, page_size=100))["from"], body(SearchQuery(page=50, page_size=100))["size"]) == (
        4_900,
        100,
    )
    beyond = body(SearchQuery(page=200, page_size=100))
    assert (beyond["from"], beyond["size"]) == (10_000, 0)


def test_category_facet_lists_the_children_of_the_chosen_category_with_the_path_escaped():
    assert body(SearchQuery(category="home-kitchen"))["aggs"]["facet_category"]["aggs"]["values"]["terms"][
        "include"
    ] == ("home\\-kitchen/[^/]+")


def test_only_the_last_word_is_completed_as_a_prefix():
    text = body(SearchQuery(q="apple ju"))["query"]["function_score"]["query"]["function_score"]["query"]
    per_word = text["bool"]["must"][0]["bool"]["should"][1]["bool"]["must"]
    kinds = [[clause.get("multi_match", {}).get("type") for clause in word["bool"]["should"]] for word in per_word]
    assert kinds == [[None, None], [None, "phrase_prefix"]]  # "ju" is too short for trigrams


def test_field_boosts_follow_the_ranking_settings():
    weights = {**WEIGHTS, "field_weights": [0.5, 0.5, 1.0, 2.0]}
    text = build_search_body(SearchQuery(q="tea"), weights=weights)["query"]["function_score"]["query"][
        "function_score"
    ]["query"]
    assert text["bool"]["must"][0]["bool"]["should"][0]["multi_match"]["fields"] == [
        "title^4",
        "brand.text^2",
        "category_names^2",
        "attributes^1",
        "description^1",
    ]


def test_suggest_body_completes_the_typed_prefix_with_typo_tolerance():
    assert build_suggest_body("  Apple   Ju ", limit=7) == {
        "_source": False,
        "suggest": {
            "complete": {
                "prefix": "apple ju",
                "completion": {
                    "field": "suggest",
                    "size": 7,
                    "skip_duplicates": True,
                    "fuzzy": {"fuzziness": "AUTO", "min_length": 4, "prefix_length": 2},
                },
            }
        },
    }


# --- mapping and documents ------------------------------------------------------------------------


def test_mapping_has_the_search_document_fields_an_ngram_title_and_a_completion_field():
    mapping = index_mapping()
    properties = mapping["mappings"]["properties"]
    document_fields = {
        f.name for f in SearchDocument._meta.get_fields() if f.name not in {"id", "document", "names"}
    }  # the tsvectors are PostgreSQL's own
    assert document_fields <= set(properties)
    assert mapping["mappings"]["dynamic"] == "strict"
    assert properties["title"] == {
        "type": "text",
        "analyzer": "folding",
        "fields": {
            "ngram": {"type": "text", "analyzer": "title_trigrams"},
            "raw": {"type": "keyword", "ignore_above": 256},
        },
    }
    assert properties["suggest"] == {
        "type": "completion",
        "analyzer": "simple",
        "preserve_separators": True,
        "max_input_length": 100,
    }
    assert properties["brand"] == {"type": "keyword", "fields": {"text": {"type": "text", "analyzer": "folding"}}}
    assert properties["price"] == {"type": "scaled_float", "scaling_factor": 100}
    assert properties["category_lineage"] == {"type": "keyword"}
    assert properties["image"] == {"type": "object", "enabled": False}
    assert mapping["settings"]["analysis"] == {
        "analyzer": {
            "folding": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]},
            "title_trigrams": {
                "type": "custom",
                "tokenizer": "title_trigram_tokenizer",
                "filter": ["lowercase", "asciifolding"],
            },
        },
        "tokenizer": {
            "title_trigram_tokenizer": {
                "type": "ngram",
                "min_gram": 3,
                "max_gram": 3,
                "token_chars": ["letter", "digit"],
            }
        },
    }
    assert mapping["settings"]["number_of_shards"] == 1


def test_document_source_carries_lineage_text_and_completion_inputs():
    created = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    document = SearchDocument(
        product_id=5,
        slug="apple-juice",
        seller_id=2,
        category_id=9,
        category_path="food/drinks/juice",
        brand="Orchard",
        title="Apple Juice",
        price=Decimal("3.50"),
        currency="EUR",
        in_stock=True,
        image=None,
        rating=Decimal("4.50"),
        rating_count=3,
        seller_rating=Decimal("4.80"),
        sales_velocity=-1.0,
        views=0,
        created_at=created,
        updated_at=created,
    )
    names = {"food": "Food", "food/drinks": "Drinks", "food/drinks/juice": "Juice"}
    assert document_source(document, category_names=names, attributes="Red", description="Pressed.") == {
        "product_id": 5,
        "slug": "apple-juice",
        "seller_id": 2,
        "category_id": 9,
        "category_path": "food/drinks/juice",
        "category_lineage": ["food", "food/drinks", "food/drinks/juice"],
        "category_names": "Food Drinks Juice",
        "brand": "Orchard",
        "title": "Apple Juice",
        "attributes": "Red",
        "description": "Pressed.",
        "spelling": "Apple Juice Orchard Food Drinks Juice",
        "suggest": {"input": ["Apple Juice", "Orchard", "Food", "Drinks", "Juice"], "weight": 10},
        "price": "3.50",
        "currency": "EUR",
        "in_stock": True,
        "image": None,
        "rating": "4.50",
        "rating_count": 3,
        "seller_rating": "4.80",
        "sales_velocity": 0.0,
        "views": 0,
        "sponsored_from": None,
        "sponsored_until": None,
        "created_at": "2025-01-02T03:04:05+00:00",
        "updated_at": "2025-01-02T03:04:05+00:00",
    }


# --- responses -----------------------------------------------------------------------------------


def test_spelling_suggestion_replaces_misspelt_words_but_not_a_word_being_completed():
    suggest = {
        "spelling": [
            {"text": "aple", "offset": 0, "length": 4, "options": [{"text": "apple", "score": 0.8, "freq": 3}]},
            {"text": "juce", "offset": 5, "length": 4, "options": [{"text": "juice", "score": 0.75, "freq": 2}]},
        ]
    }
    assert suggestion_from_response("Aple juce", suggest) == "apple juice"
    completing = {"spelling": [{"text": "jui", "offset": 6, "length": 3, "options": [{"text": "juice"}]}]}
    assert suggestion_from_response("apple jui", completing) is None
    assert suggestion_from_response("tea", {"spelling": [{"text": "tea", "options": []}]}) is None
    assert suggestion_from_response("tea", None) is None


def test_response_becomes_a_search_result_with_disjunctive_facets():
    response = {
        "hits": {
            "total": {"value": 1_000, "relation": "gte"},
            "hits": [
                {
                    "_source": {
                        "product_id": 5,
                        "slug": "apple-juice",
                        "title": "Apple Juice",
                        "brand": "Orchard",
                        "price": "3.50",
                        "currency": "EUR",
                        "rating": "4.5",
                        "in_stock": True,
                        "seller_id": 2,
                        "image": None,
                    }
                }
            ],
        },
        "aggregations": {
            "facet_brand": {"doc_count": 3, "values": {"buckets": [{"key": "Orchard", "doc_count": 2}]}},
            "facet_category": {"doc_count": 3, "values": {"buckets": [{"key": "food", "doc_count": 3}]}},
            "facet_price": {
                "doc_count": 3,
                "values": {
                    "buckets": [
                        {"key": "0", "from": 0.0, "to": 10.0, "doc_count": 2},
                        {"key": "1", "from": 10.0, "to": 25.0, "doc_count": 0},
                        {"key": "7", "from": 1000.0, "doc_count": 1},
                    ]
                },
            },
            "facet_rating": {
                "doc_count": 3,
                "values": {"buckets": [{"key": "4", "from": 4.0, "doc_count": 1}, {"key": "1", "doc_count": 0}]},
            },
        },
    }
    result = result_from_response(SearchQuery(q="juice"), response, category_names={"food": "Food"})
    assert (result.count, result.count_is_capped, result.suggestion) == (1_000, True, None)
    hit = result.results[0]
    assert (hit.slug, hit.price, hit.rating, hit.in_stock) == ("apple-juice", Decimal("3.50"), Decimal("4.50"), True)
    assert [(f.value, f.count) for f in result.facets.brand] == [("Orchard", 2)]
    assert [(f.value, f.count, f.label) for f in result.facets.category] == [("food", 3, "Food")]
    assert result.facets.price == [
        PriceBucket(Decimal(0), Decimal(10), 2),
        PriceBucket(Decimal(1000), None, 1),
    ]
    assert result.facets.rating == [RatingBucket(4, 1)]
    assert result.facets.approximate is False
