"""The Elasticsearch backend (``SEARCH_BACKEND=elasticsearch``, ``ELASTICSEARCH_URL``).

Every request body is built by a pure function (``index_mapping``, ``build_search_body``,
``build_suggest_body``, ``document_source``) and every response is read by one
(``result_from_response``, ``suggestion_from_response``), so they are tested without a server
(search/tests/test_elasticsearch_bodies.py); the class and the index functions only add the I/O.

Matching. Two alternatives, either enough (``bool.should``):

- every word somewhere in the weighted fields (``cross_fields``, operator ``and``: "nordic
  headphones" finds the brand in one field and the product word in another), weighted like the
  PostgreSQL document's parts: title, brand and category names, attribute values, description;
- every word, with typos, in the title, brand, category names or attributes: per word a fuzzy match
  (``AUTO`` edits), a match of the title's trigrams (``title.ngram``) and, for the last word, a
  prefix ("app" finds "apple juice"). Scored at half, so exact matches rank first.

Ranking (sort "relevance"), the weights of ``settings.SEARCH_RANKING`` as for PostgreSQL::

    score = BM25 * (1 + sales_velocity * ln(1 + units sold per day) + views * ln(1 + views)
                    + rating * rating / 5
                    + seller_rating * seller_rating / 5)      -- inner function_score, summed
                 * (sponsored while the paid placement runs)  -- outer function_score

Filters without a facet (seller, in stock) restrict the query; the facet filters (category, brand,
price, rating) are a ``post_filter``, so the aggregations see the query's matches and each facet
aggregation applies every facet filter but its own (disjunctive facets). Facet counts are exact
(aggregations cover every match), so ``approximate`` stays False. ``suggestion`` ("did you mean")
comes from a term suggester over the words of titles, brands and categories, in the same request.

Writes. Searches read the alias ``search.documents.INDEX_ALIAS``. ``index_rebuild`` (``manage.py
search_reindex --backend elasticsearch``) loads a new timestamped index from the ``SearchDocument``
table, swaps the alias in one ``_aliases`` call and deletes the old index; changes made while it
loads are written to both indexes (``REINDEX_TARGET_CACHE_KEY``) and replayed after the swap.
``documents_sync`` (the Celery task of ``search.tasks``, enqueued by the outbox handlers) indexes or
deletes single products.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from catalog.models import PATH_SEPARATOR, Category, Product, Variant
from search.backends.base import (
    Facets,
    FacetValue,
    Hit,
    PriceBucket,
    RatingBucket,
    SearchBackend,
    SearchQuery,
    SearchResult,
    Sort,
)
from search.backends.postgres import (
    BRAND_FACET_SIZE,
    CATEGORY_FACET_SIZE,
    COUNT_CAP,
    PRICE_BUCKETS,
    RATING_BUCKETS,
    SUGGESTION_MIN_PREFIX,
    _popular_queries,
    ranking,
)
from search.models import SearchDocument
from search.services import DESCRIPTION_INDEXED_CHARS
from sellers.models import Seller

logger = logging.getLogger(__name__)

MAX_RESULT_WINDOW = 10_000  # the index's max_result_window: from + size never goes past it
MAX_QUERY_WORDS = 12  # each word is a clause of its own; a longer "query" is pasted text
FUZZY_PREFIX_LENGTH = 1  # typos rarely hit the first letter, and it keeps fuzzy expansion cheap
# A word's trigrams may miss a third (a typo breaks two or three of them), and a short word's none:
# Elasticsearch rounds "66%" down, so one shared trigram of three would already match.
TRIGRAM_MINIMUM_SHOULD_MATCH = "-34%"
TRIGRAM_MIN_WORD_LENGTH = 5  # shorter words have one or two trigrams (noise); the fuzzy match covers them
BULK_CHUNK = 2_000  # documents per bulk request (a few MB)
REINDEX_TARGET_CACHE_KEY = "search:es:reindex-target"  # the index being loaded: synced documents go there too
REINDEX_TARGET_TTL = 6 * 3600  # a crashed rebuild stops dual writes on its own
HIT_SOURCE = ["product_id", "slug", "title", "brand", "price", "currency", "rating", "in_stock", "seller_id", "image"]
TEXT_FIELDS = ("title", "brand.text", "category_names", "attributes", "description")  # D..A order below
TYPO_FIELDS = ("title", "brand.text", "category_names", "attributes")  # descriptions are too noisy to guess in

_WORD = re.compile(r"[^\W_]+")
_REGEX_SPECIAL = re.compile(r"([^A-Za-z0-9/_])")


# --- request bodies (pure) -------------------------------------------------------------------


def index_mapping() -> dict[str, Any]:
    """The body that creates a concrete index: settings with the analyzers, and the mappings, from
    ``search.documents.ProductDocument``."""
    from search.documents import products_index

    body = products_index.to_dict()
    body["mappings"]["dynamic"] = "strict"  # a typo in document_source fails loudly, not as a new field
    return body


def _number(value: Decimal) -> int | str:
    """A decimal as JSON: an integer when it is one, else its exact string (Elasticsearch parses both)."""
    return int(value) if value == value.to_integral_value() else str(value)


def _words(q: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(q)][:MAX_QUERY_WORDS]


def _field_boosts(weights: dict[str, Any]) -> list[str]:
    """The text fields with boosts in the proportions of the PostgreSQL document weights."""
    description, attributes, brand_category, title = (float(w) for w in weights["field_weights"])
    lowest = min(description, attributes, brand_category, title) or 1.0
    boosts = {
        "title": title,
        "brand.text": brand_category,
        "category_names": brand_category,
        "attributes": attributes,
        "description": description,
    }
    return [f"{field}^{_round(boosts[field] / lowest)}" for field in TEXT_FIELDS]


def _round(value: float) -> float | int:
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded


def _word_clause(word: str, *, last: bool) -> dict[str, Any]:
    alternatives: list[dict[str, Any]] = [
        {
            "multi_match": {
                "query": word,
                "fields": list(TYPO_FIELDS),
                "fuzziness": "AUTO",
                "prefix_length": FUZZY_PREFIX_LENGTH,
            }
        },
    ]
    if len(word) >= TRIGRAM_MIN_WORD_LENGTH:
        alternatives.append(
            {"match": {"title.ngram": {"query": word, "minimum_should_match": TRIGRAM_MINIMUM_SHOULD_MATCH}}}
        )
    if last:
        alternatives.append({"multi_match": {"query": word, "type": "phrase_prefix", "fields": list(TYPO_FIELDS)}})
    return {"bool": {"should": alternatives, "minimum_should_match": 1}}


def _text_clause(q: str, weights: dict[str, Any]) -> dict[str, Any] | None:
    words = _words(q)
    if not words:
        return None
    text = " ".join(words)
    return {
        "bool": {
            "should": [
                {
                    "multi_match": {
                        "query": text,
                        "type": "cross_fields",
                        "fields": _field_boosts(weights),
                        "operator": "and",
                    }
                },
                {
                    "bool": {
                        "must": [_word_clause(word, last=i == len(words) - 1) for i, word in enumerate(words)],
                        "boost": 0.5,
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }


def _sponsored_now() -> dict[str, Any]:
    # sponsored_from may be empty (no start): "not after now" instead of "at or before now"
    return {
        "bool": {
            "filter": [{"range": {"sponsored_until": {"gt": "now"}}}],
            "must_not": [{"range": {"sponsored_from": {"gt": "now"}}}],
        }
    }


def _scored(query: dict[str, Any], weights: dict[str, Any]) -> dict[str, Any]:
    popularity = {
        "function_score": {
            "query": query,
            "functions": [
                {"weight": 1},
                {
                    "field_value_factor": {"field": "sales_velocity", "modifier": "ln1p", "missing": 0},
                    "weight": float(weights["sales_velocity"]),
                },
                {
                    "field_value_factor": {"field": "views", "modifier": "ln1p", "missing": 0},
                    "weight": float(weights["views"]),
                },
                {
                    "field_value_factor": {"field": "rating", "factor": 0.2, "missing": 0},  # rating / 5
                    "weight": float(weights["rating"]),
                },
                {
                    "field_value_factor": {"field": "seller_rating", "factor": 0.2, "missing": 0},
                    "weight": float(weights["seller_rating"]),
                },
            ],
            "score_mode": "sum",
            "boost_mode": "multiply",
        }
    }
    return {
        "function_score": {
            "query": popularity,
            # a document no function matches keeps its score (factor 1)
            "functions": [{"filter": _sponsored_now(), "weight": float(weights["sponsored"])}],
            "boost_mode": "multiply",
        }
    }


def facet_filters(query: SearchQuery) -> dict[str, dict[str, Any]]:
    """The filters that have a facet, by facet name (each facet's aggregation leaves its own out)."""
    filters: dict[str, dict[str, Any]] = {}
    if query.category:
        filters["category"] = {"term": {"category_lineage": query.category}}
    if query.brands:
        filters["brand"] = {"terms": {"brand": list(query.brands)}}
    price: dict[str, Any] = {}
    if query.min_price is not None:
        price["gte"] = _number(query.min_price)
    if query.max_price is not None:
        price["lte"] = _number(query.max_price)
    if price:
        filters["price"] = {"range": {"price": price}}
    if query.min_rating is not None:
        filters["rating"] = {"range": {"rating": {"gte": _number(query.min_rating)}}}
    return filters


def _all_of(clauses: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"filter": list(clauses)}} if clauses else {"match_all": {}}


def _category_include(selected: str) -> str:
    """The category facet's values: top-level paths, or the children of the selected category."""
    if not selected:
        return "[^/]+"
    return _REGEX_SPECIAL.sub(r"\\\1", selected) + PATH_SEPARATOR + "[^/]+"


def _facet_aggregations(query: SearchQuery, filters: dict[str, dict[str, Any]]) -> dict[str, Any]:
    by_count = [{"_count": "desc"}, {"_key": "asc"}]
    facets = {
        "brand": {"terms": {"field": "brand", "size": BRAND_FACET_SIZE, "order": by_count}},
        "category": {
            "terms": {
                "field": "category_lineage",
                "size": CATEGORY_FACET_SIZE,
                "include": _category_include(query.category),
                "order": by_count,
            }
        },
        "price": {"range": {"field": "price", "ranges": _price_ranges()}},
        "rating": {"range": {"field": "rating", "ranges": [{"key": str(m), "from": m} for m in RATING_BUCKETS]}},
    }
    return {
        f"facet_{name}": {
            "filter": _all_of([clause for other, clause in filters.items() if other != name]),
            "aggs": {"values": aggregation},
        }
        for name, aggregation in facets.items()
    }


def _price_ranges() -> list[dict[str, Any]]:
    ranges = []
    for i, low in enumerate(PRICE_BUCKETS):
        entry: dict[str, Any] = {"key": str(i), "from": _number(low)}
        if i + 1 < len(PRICE_BUCKETS):
            entry["to"] = _number(PRICE_BUCKETS[i + 1])
        ranges.append(entry)
    return ranges


def _sort(sort: Sort) -> list[Any]:
    if sort is Sort.PRICE_ASC:
        return [{"price": "asc"}, {"product_id": "asc"}]
    if sort is Sort.PRICE_DESC:
        return [{"price": "desc"}, {"product_id": "desc"}]
    if sort is Sort.NEWEST:
        return [{"created_at": "desc"}, {"product_id": "desc"}]
    if sort is Sort.RATING:
        return [{"rating": "desc"}, "_score", {"product_id": "desc"}]
    return ["_score", {"product_id": "desc"}]


def build_search_body(
    query: SearchQuery, *, seller_ids: Sequence[int] | None = None, weights: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The ``_search`` body of one results page with its facets and spelling suggestion.

    ``seller_ids`` are the ids of ``query.seller`` (the index holds ids, the query a slug; an unknown
    slug is ``[]`` and matches nothing); ``weights`` default to ``settings.SEARCH_RANKING``.
    """
    weights = weights if weights is not None else ranking()
    text = _text_clause(query.q, weights)
    base_filters: list[dict[str, Any]] = []
    if query.seller:
        base_filters.append({"terms": {"seller_id": list(seller_ids or [])}})
    if query.in_stock:
        base_filters.append({"term": {"in_stock": True}})
    matching: dict[str, Any] = {"bool": {"must": [text or {"match_all": {}}]}}
    if base_filters:
        matching["bool"]["filter"] = base_filters

    offset = min((query.page - 1) * query.page_size, MAX_RESULT_WINDOW)
    filters = facet_filters(query)
    body: dict[str, Any] = {
        "query": _scored(matching, weights),
        "sort": _sort(query.sort),
        "from": offset,
        "size": max(0, min(query.page_size, MAX_RESULT_WINDOW - offset)),
        "track_total_hits": COUNT_CAP,
        "_source": HIT_SOURCE,
        "aggs": _facet_aggregations(query, filters),
    }
    if filters:
        body["post_filter"] = _all_of(list(filters.values()))
    if text is not None:
        body["suggest"] = {
            "text": " ".join(_words(query.q)),
            "spelling": {
                "term": {
                    "field": "spelling",
                    "suggest_mode": "missing",  # only words the index does not have
                    "sort": "score",
                    "min_word_length": 3,
                    "max_edits": 2,
                    "size": 1,
                }
            },
        }
    return body


def build_suggest_body(prefix: str, *, limit: int = 10) -> dict[str, Any]:
    """The ``_search`` body of autocomplete: the completion suggester over titles, brands and
    category names, tolerant of a typo once a few letters are typed."""
    return {
        "_source": False,
        "suggest": {
            "complete": {
                "prefix": " ".join(prefix.lower().split()),
                "completion": {
                    "field": "suggest",
                    "size": limit,
                    "skip_duplicates": True,
                    "fuzzy": {"fuzziness": "AUTO", "min_length": 4, "prefix_length": 2},
                },
            }
        },
    }


# --- responses (pure) ------------------------------------------------------------------------


def suggestion_from_response(q: str, suggest: dict[str, Any] | None) -> str | None:
    """The query with its misspelt words replaced by the term suggester's first option, or None.
    The last word is left alone when the option merely completes it (still being typed)."""
    entries = (suggest or {}).get("spelling") or []
    corrections: dict[str, str] = {}
    words = _words(q)
    for entry in entries:
        options = entry.get("options") or []
        word = entry.get("text", "")
        if not options or not word:
            continue
        correction = options[0]["text"]
        if words and word == words[-1] and correction.startswith(word):
            continue
        corrections[word] = correction
    if not corrections:
        return None
    return " ".join(corrections.get(word, word) for word in words)


def _hit(source: dict[str, Any]) -> Hit:
    return Hit(
        product_id=int(source["product_id"]),
        slug=source["slug"],
        title=source["title"],
        brand=source.get("brand") or "",
        price=Decimal(str(source["price"])),
        currency=source["currency"],
        rating=Decimal(str(source.get("rating") or 0)).quantize(Decimal("0.01")),
        in_stock=bool(source["in_stock"]),
        seller_id=int(source["seller_id"]),
        image=source.get("image"),
    )


def result_from_response(
    query: SearchQuery, response: dict[str, Any], *, category_names: dict[str, str] | None = None
) -> SearchResult:
    """A ``SearchResult`` from a ``_search`` response to ``build_search_body(query)``."""
    total = response["hits"]["total"]
    aggregations = response.get("aggregations", {})

    def buckets(name: str) -> list[dict[str, Any]]:
        return aggregations.get(f"facet_{name}", {}).get("values", {}).get("buckets", [])

    names = category_names or {}
    prices = []
    for bucket in buckets("price"):
        if not bucket["doc_count"]:
            continue
        i = int(bucket["key"])
        high = PRICE_BUCKETS[i + 1] if i + 1 < len(PRICE_BUCKETS) else None
        prices.append(PriceBucket(PRICE_BUCKETS[i], high, bucket["doc_count"]))
    ratings = {int(bucket["key"]): bucket["doc_count"] for bucket in buckets("rating")}
    return SearchResult(
        count=min(total["value"], COUNT_CAP),
        count_is_capped=total["relation"] == "gte" or total["value"] > COUNT_CAP,
        results=[_hit(hit["_source"]) for hit in response["hits"]["hits"]],
        facets=Facets(
            brand=[FacetValue(b["key"], b["doc_count"]) for b in buckets("brand")],
            category=[FacetValue(b["key"], b["doc_count"], names.get(b["key"], b["key"])) for b in buckets("category")],
            price=prices,
            rating=[RatingBucket(m, ratings[m]) for m in RATING_BUCKETS if ratings.get(m)],
        ),
        suggestion=suggestion_from_response(query.q, response.get("suggest")),
        query=query,
    )


def completions_from_response(response: dict[str, Any]) -> list[str]:
    entries = response.get("suggest", {}).get("complete") or []
    return [option["text"] for entry in entries for option in entry.get("options", [])]


# --- documents (pure) ------------------------------------------------------------------------


def _lineage(path: str) -> list[str]:
    parts = path.split(PATH_SEPARATOR)
    return [PATH_SEPARATOR.join(parts[: i + 1]) for i in range(len(parts))]


def _suggest_weight(sales_velocity: float, views: int, rating: Decimal) -> int:
    """Completion weight: popular, well-rated products are completed first."""
    return 1 + int(10 * math.log1p(max(sales_velocity, 0)) + math.log1p(max(views, 0)) + 2 * float(rating))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def document_source(
    document: SearchDocument, *, category_names: dict[str, str], attributes: str = "", description: str = ""
) -> dict[str, Any]:
    """The indexed JSON of one ``SearchDocument``. ``category_names`` maps category paths to names
    (for the lineage); attribute values and the description come from the catalogue."""
    lineage = _lineage(document.category_path)
    names = [category_names.get(path, "") for path in lineage]
    inputs = [document.title, document.brand, *names]
    return {
        "product_id": document.product_id,
        "slug": document.slug,
        "seller_id": document.seller_id,
        "category_id": document.category_id,
        "category_path": document.category_path,
        "category_lineage": lineage,
        "category_names": " ".join(name for name in names if name),
        "brand": document.brand,
        "title": document.title,
        "attributes": attributes,
        "description": description[:DESCRIPTION_INDEXED_CHARS],
        "spelling": " ".join(part for part in (document.title, document.brand, *names) if part),
        "suggest": {
            "input": [text for text in dict.fromkeys(inputs) if text],
            "weight": _suggest_weight(document.sales_velocity, document.views, document.rating),
        },
        "price": str(document.price),
        "currency": document.currency,
        "in_stock": document.in_stock,
        "image": document.image,
        "rating": str(document.rating),
        "rating_count": document.rating_count,
        "seller_rating": str(document.seller_rating),
        "sales_velocity": max(document.sales_velocity, 0.0),
        "views": document.views,
        "sponsored_from": _iso(document.sponsored_from),
        "sponsored_until": _iso(document.sponsored_until),
        "created_at": _iso(document.created_at),
        "updated_at": _iso(document.updated_at),
    }


# --- I/O -------------------------------------------------------------------------------------


def client():
    """The Elasticsearch client of django-elasticsearch-dsl's ``default`` connection
    (``settings.ELASTICSEARCH_DSL``), made from ``ELASTICSEARCH_URL`` when that app is not installed."""
    from elasticsearch.dsl.connections import connections

    try:
        return connections.get_connection("default")
    except KeyError:
        url = getattr(settings, "ELASTICSEARCH_URL", "")
        if not url:
            raise ImproperlyConfigured("SEARCH_BACKEND=elasticsearch needs ELASTICSEARCH_URL") from None
        connections.create_connection("default", hosts=[url], request_timeout=10)
        return connections.get_connection("default")


def _alias() -> str:
    from search.documents import INDEX_ALIAS

    return INDEX_ALIAS


def _category_names() -> dict[str, str]:
    return dict(Category.objects.values_list("path", "name"))


def _catalogue_text(product_ids: list[int]) -> dict[int, tuple[str, str]]:
    """(attribute values, description) per product: the text PostgreSQL keeps only in its tsvector."""
    text: dict[int, tuple[list[str], str]] = {}
    for product_id, description, attributes in Product.objects.filter(id__in=product_ids).values_list(
        "id", "description", "attributes"
    ):
        values = [str(v) for v in attributes.values()] if isinstance(attributes, dict) else []
        text[product_id] = (values, description or "")
    for product_id, attributes in Variant.objects.filter(product_id__in=product_ids, is_active=True).values_list(
        "product_id", "attributes"
    ):
        if isinstance(attributes, dict) and product_id in text:
            text[product_id][0].extend(str(v) for v in attributes.values())
    return {pid: (" ".join(dict.fromkeys(values)), description) for pid, (values, description) in text.items()}


def _index_actions(documents: Iterable[SearchDocument], index: str, names: dict[str, str]) -> list[dict]:
    documents = list(documents)
    text = _catalogue_text([d.product_id for d in documents])
    actions = []
    for document in documents:
        attributes, description = text.get(document.product_id, ("", ""))
        source = document_source(document, category_names=names, attributes=attributes, description=description)
        actions.append({"_op_type": "index", "_index": index, "_id": document.product_id, "_source": source})
    return actions


def _bulk(actions: list[dict], *, refresh: bool | str = False) -> None:
    from elasticsearch import helpers

    if actions:
        helpers.bulk(client(), actions, ignore_status=(404,), refresh=refresh)  # 404: deleting what is gone


def documents_sync(*, product_ids: Sequence[int]) -> None:
    """Make the index agree with the ``SearchDocument`` table for these products: indexed when they
    have a document, deleted otherwise. Idempotent, so a retried or repeated task is harmless.
    While ``index_rebuild`` loads a new index, the change goes to that index too."""
    targets = [_alias()]
    try:
        loading = cache.get(REINDEX_TARGET_CACHE_KEY)
    except Exception:  # Redis down: the rebuild's catch-up pass covers it
        loading = None
    if loading:
        targets.append(loading)
    documents = list(SearchDocument.objects.filter(product_id__in=product_ids))
    present = {d.product_id for d in documents}
    names = _category_names()
    actions: list[dict] = []
    for index in targets:
        actions += _index_actions(documents, index, names)
        actions += [
            {"_op_type": "delete", "_index": index, "_id": product_id}
            for product_id in product_ids
            if product_id not in present
        ]
    _bulk(actions, refresh=getattr(settings, "SEARCH_ELASTICSEARCH_REFRESH", False))


def _documents_in_batches(since: datetime | None = None) -> Iterator[list[SearchDocument]]:
    """Every document (or those updated since), by product id, without one long-running query."""
    documents = SearchDocument.objects.order_by("product_id")
    if since is not None:
        documents = documents.filter(updated_at__gte=since)
    last = 0
    while batch := list(documents.filter(product_id__gt=last)[:BULK_CHUNK]):
        yield batch
        last = batch[-1].product_id


def index_rebuild(*, progress: Callable[[str], None] = lambda message: None) -> str:
    """Build a new index from the ``SearchDocument`` table, point the alias at it in one atomic
    ``_aliases`` call, and delete the indexes it pointed at. Searches answer from the old index until
    the swap. Returns the new index's name.

    Precondition: the table is current (``search.services.documents_rebuild_all`` after a bulk load).
    """
    es = client()
    alias = _alias()
    started_at = timezone.now()
    started = time.monotonic()
    name = f"{alias}-{started_at:%Y%m%d%H%M%S%f}"
    body = index_mapping()
    replicas = body["settings"].get("number_of_replicas", 1)
    # loaded without replicas or refreshes (much faster), then set like the mapping says
    body["settings"].update(number_of_replicas=0, refresh_interval="-1")
    es.indices.create(index=name, settings=body["settings"], mappings=body["mappings"])
    try:
        cache.set(REINDEX_TARGET_CACHE_KEY, name, REINDEX_TARGET_TTL)
    except Exception:  # without Redis the catch-up pass below is the only net
        logger.warning("search: could not mark %s as the reindex target; relying on the catch-up pass", name)
    try:
        names = _category_names()
        loaded = 0
        for batch in _documents_in_batches():
            _bulk(_index_actions(batch, name, names))
            loaded += len(batch)
            progress(f"elasticsearch: {loaded:,} documents into {name}")
        es.indices.put_settings(
            index=name, settings={"index": {"number_of_replicas": replicas, "refresh_interval": "1s"}}
        )
        es.indices.refresh(index=name)

        actions: list[dict[str, Any]] = []
        old: list[str] = []
        if es.indices.exists_alias(name=alias):
            old = sorted(es.indices.get_alias(name=alias).body)
            actions += [{"remove": {"index": index, "alias": alias}} for index in old]
        elif es.indices.exists(index=alias):
            # a plain index under the alias's name (made by hand or by search_index): replaced in the same call
            actions.append({"remove_index": {"index": alias}})
        actions.append({"add": {"index": name, "alias": alias}})
        es.indices.update_aliases(actions=actions)
        progress(f"elasticsearch: alias {alias} -> {name}")
    except Exception:
        es.indices.delete(index=name, ignore_unavailable=True)
        raise
    finally:
        try:
            cache.delete(REINDEX_TARGET_CACHE_KEY)
        except Exception:  # Redis down: the mark expires on its own
            logger.warning("search: could not clear the reindex target mark (it expires)")
    # Documents changed while the batches were read: written again, now through the alias.
    for batch in _documents_in_batches(since=started_at):
        documents_sync(product_ids=[d.product_id for d in batch])
    for index in old:
        es.indices.delete(index=index, ignore_unavailable=True)
    progress(f"elasticsearch: {loaded:,} documents in {time.monotonic() - started:.1f}s")
    return name


class ElasticsearchBackend(SearchBackend):
    def search(self, query: SearchQuery) -> SearchResult:
        seller_ids = None
        if query.seller:
            seller_ids = list(Seller.objects.filter(slug=query.seller).values_list("id", flat=True))
        body = build_search_body(query, seller_ids=seller_ids)
        response = client().search(index=_alias(), body=body).body
        category_facet = response.get("aggregations", {}).get("facet_category", {}).get("values", {})
        paths = [bucket["key"] for bucket in category_facet.get("buckets", [])]
        names = dict(Category.objects.filter(path__in=paths).values_list("path", "name")) if paths else {}
        return result_from_response(query, response, category_names=names)

    def suggest(self, prefix: str, *, limit: int) -> list[str]:
        prefix = " ".join(prefix.lower().split())
        if not prefix:
            return []
        found = [q for q in _popular_queries() if q.startswith(prefix)][:limit]
        if len(prefix) >= SUGGESTION_MIN_PREFIX:
            response = client().search(index=_alias(), body=build_suggest_body(prefix, limit=limit)).body
            found += completions_from_response(response)
        unique: dict[str, str] = {}
        for suggestion in found:
            unique.setdefault(suggestion.lower(), suggestion)
        return list(unique.values())[:limit]
