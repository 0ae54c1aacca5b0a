"""The built-in search backend: PostgreSQL full-text search over ``search.SearchDocument``.

Matching. The query is parsed by ``websearch_to_tsquery`` (quotes, ``or``, ``-word``), and its last
word, when it is a plain word being typed, is matched as itself anywhere or as the start of a word
of the title, brand or category, so "app" finds "apple juice" while "tea" does not find every
description that mentions a "team". The words it may start are named from the vocabulary (its
``PREFIX_TERMS`` most frequent: ``document @@ 'app' OR names @@ 'apple | application'``, ``names``
being the title, brand and category words, stored and indexed on their own) rather than left to a prefix match
(``app:*AB``): PostgreSQL answers a prefix match by collecting every document of every word it
starts before it looks at the rest of the query ("ember studio": the 200,000 documents of "studio",
150 ms at a million products), and checks a weight row by row. The cost: a short start with more
than ``PREFIX_TERMS`` completions ("sta") completes to its most frequent words only (frequency over
whole documents), until the next letter narrows it. A word with digits, which the vocabulary does
not hold, keeps a prefix match on the names; one or two letters are matched as themselves only. The
ranking's tsquery names the same words without weights. The text search configuration
is ``simple`` (lower-casing, no stemming and no stop words): product titles mix languages, brand
names and model numbers that an English stemmer mangles, the prefix match covers most plural forms,
and the vocabulary for typo correction is then made of real words.

"Any word" fallback. A query of several plain words (no quotes, ``or`` or ``-word``) that finds
fewer than ``RELAXED_BELOW`` products with every word (``settings.SEARCH_RELAXED_BELOW``) is
searched again with all its words but one (any word of a two-word query), and the result says so
(``relaxed``). Products matching more of the words come first; among those matching as many, the
ones matching the rarer words (the vocabulary's document frequencies: "headphones" says more than
"compact"), then the usual ranking or the chosen sort. So the products matching every word keep the
top of the page, and "nordic headphones" goes on with other headphones rather than with everything
Nordic makes.

Typo tolerance. A query word that is not in the vocabulary (and, for the last word, is not the start
of a word either) is replaced by its likeliest correction from the symmetric-delete index
(``search.spelling``); the corrected query is searched and returned as the ``suggestion``.

Ranking (sort "relevance"), weights in ``settings.SEARCH_RANKING`` (defaults in ``DEFAULT_RANKING``)::

    score = ts_rank_cd(field_weights, document, query, 1)          -- text relevance, per length
          * (1 + sales_velocity * ln(1 + units sold per day)
               + views * ln(1 + views)
               + rating * rating / 5
               + seller_rating * seller's rating / 5)              -- popularity and quality
          * (sponsored while the paid placement runs, else 1)      -- sponsored boost

``field_weights`` are the weights of the D, C, B, A parts of the document (description, attributes,
brand and category, title). Logarithms keep a best-seller from burying a better text match; the
sponsored factor lifts a paid product among comparable matches without pulling in ones that do not
match. Without a query the score is the popularity part alone.

Counts stop at ``COUNT_CAP`` (shown as "1,000+"). Facets are disjunctive: each is counted with every
filter but its own. PostgreSQL counts them in one statement over up to ``FACET_SAMPLE`` matches of the
query and the non-facet filters, read in the order the index yields them (ranking a sample of a huge result set
costs more than the search itself: a million-product catalogue showed 0.4-5 s against 10-30 ms);
when there are more matches, the counts are flagged approximate.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from itertools import combinations
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery as PgSearchQuery
from django.contrib.postgres.search import SearchRank
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    DecimalField,
    Expression,
    ExpressionWrapper,
    F,
    Field,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Now
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual

from catalog.models import PATH_SEPARATOR, Brand, Category
from search import spelling
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
from search.models import PopularQuery, SearchDocument, SearchTerm
from sellers.models import Seller

CONFIG = "simple"  # the same as search.services.TEXT_SEARCH_CONFIG (the documents' configuration)

DEFAULT_RANKING: dict[str, Any] = {
    "field_weights": [0.1, 0.2, 0.4, 1.0],  # D description, C attributes, B brand + category, A title
    "sales_velocity": 0.3,  # per ln(1 + units sold per day)
    "views": 0.05,  # per ln(1 + views)
    "rating": 0.3,  # at 5 stars; an unrated product gets nothing
    "seller_rating": 0.1,  # at 5 stars: a small lift for products of well-rated sellers
    "sponsored": 1.5,  # multiplies the score of a product while its paid placement runs
}
COUNT_CAP = 1_000  # beyond this "1,000+": more than 40 pages; counting further reads every match (~25 µs each)
FACET_SAMPLE = 1_000  # facets of bigger result sets are counted over this many of their matches
BRAND_FACET_SIZE = 20
CATEGORY_FACET_SIZE = 30
# Price facet buckets (lower bounds; the last is open-ended), in the catalogue's currency.
PRICE_BUCKETS = [Decimal(n) for n in (0, 10, 25, 50, 100, 250, 500, 1000)]
RATING_BUCKETS = (4, 3, 2, 1)
POPULAR_QUERIES_CACHE_KEY = "search:popular-queries:v1"
POPULAR_QUERIES_TTL = 60  # seconds: new favourites show up within a minute, Redis absorbs every keystroke
POPULAR_QUERIES_CACHED = 1_000  # the most frequent queries, filtered by prefix in Python
RANK_WINDOW = 200  # a result set of more than COUNT_CAP matches is ranked over its this many most popular
PREFIX_TERMS = 20  # the vocabulary words a word being typed stands for, the most frequent first
RELAXED_BELOW = 10  # fewer matches of every word than a first page: top it up with "any word" matches
SUGGESTION_MIN_PREFIX = 2  # one letter matches a good part of the index: only popular queries then
TITLE_COMPLETION_MIN_WORD = 3  # titles are completed from the third letter of the word being typed
TITLE_CANDIDATES = 30  # documents read for title completions

_WORD = re.compile(r"[^\W_]+")
# The last word of a query still being typed: after a space or at the start, not negated or quoted.
_LAST_WORD = re.compile(r"(?:^|\s)([^\W_]+)$")
_OPERATOR_WORDS = {"or"}  # websearch_to_tsquery syntax, never corrected or completed
_PLAIN_QUERY = re.compile(r"[^\W_]+(?:\s+[^\W_]+)*")  # words only: what the "any word" fallback relaxes


def ranking() -> dict[str, Any]:
    return {**DEFAULT_RANKING, **getattr(settings, "SEARCH_RANKING", {})}


def relaxed_below() -> int:
    return int(getattr(settings, "SEARCH_RELAXED_BELOW", RELAXED_BELOW))


def _split_last_word(q: str) -> tuple[str, str]:
    """(the query before its last word, the last word) when the last word can be a prefix, else (q, "")."""
    if q.count('"') % 2:
        return q, ""
    match = _LAST_WORD.search(q)
    if match is None or match.group(1).lower() in _OPERATOR_WORDS:
        return q, ""
    return q[: match.start(1)], match.group(1).lower()


# ``SearchDocument.names``: the title, brand and category words of a document (its A and B parts),
# the words a word being typed may start. Stored and indexed on their own (search_doc_names_gin,
# migrations 0004 and 0005), so a started word is looked up among names only: no row read to check
# its weight, and PostgreSQL estimates it from how often it names products, not from every
# description that uses it ("sand" of "san": 10,000 products by name, 200,000 by any word; planned
# as the latter, the search read them all). Stored rather than computed from the document on each
# row read (the first index was on ``ts_filter(document, '{a,b}')``): a check or recheck of a row
# costs a lookup in a few words, not a filtered copy of its document (at a million products, the
# 200 most popular matches of "spea" in 44 ms rather than 68 ms; the names index, without a pending
# list, finds the 5,122 "speaker" names in 1.3 ms rather than 8 ms).


def _names_match(raw: str) -> Q:
    """Documents whose names match the raw tsquery ``raw`` (made of words from ``_WORD``)."""
    return Q(names=PgSearchQuery(raw, config=CONFIG, search_type="raw"))


def _started_words(word: str) -> str | None:
    """The raw tsquery of the name words that ``word``, still being typed, starts (None for none).
    They are named from the vocabulary (see the module's docstring); a word with digits, which the
    vocabulary does not hold, is matched as a prefix. ``word`` is letters and digits only (``_WORD``),
    safe in a raw tsquery."""
    if not word.isalpha():
        return f"{word}:*"
    if len(word) < TITLE_COMPLETION_MIN_WORD:
        return None  # "co" of "Willow & Co" starts hundreds of words: the word itself only
    started = [term for term in _term_completions(word, limit=PREFIX_TERMS) if term != word]
    return " | ".join(started) or None


@dataclass(frozen=True)
class Word:
    """A word of a query: the condition a document meets to match it, and its tsquery for ranking."""

    match: Q
    rank: str


def _word(word: str, *, typed: bool) -> Word:
    """A plain word, or the word still being typed: itself anywhere, or the start of a word of the
    title, brand or category only ("tea" must not match every description that mentions a "team")."""
    exact = Q(document=PgSearchQuery(word, config=CONFIG, search_type="raw"))
    started = _started_words(word) if typed else None
    if started is None:
        return Word(exact, word)
    return Word(exact | _names_match(started), f"({word} | {started})")


@dataclass(frozen=True)
class Text:
    """A text query: the condition its matches meet, and the tsquery that ranks them."""

    match: Q
    rank: PgSearchQuery


def _text_query(q: str) -> Text | None:
    head, last = _split_last_word(q)
    match = Q()
    rank: PgSearchQuery | None = None
    if _WORD.search(head):  # a head of operators only ("- case", "& co") would match nothing
        rank = PgSearchQuery(head, config=CONFIG, search_type="websearch")
        match &= Q(document=rank)
    if last:
        typed = _word(last, typed=True)
        match &= typed.match
        typed_rank = PgSearchQuery(typed.rank, config=CONFIG, search_type="raw")
        rank = typed_rank if rank is None else rank & typed_rank
    return Text(match, rank) if rank is not None else None


@dataclass(frozen=True)
class AnyWord:
    """The "any word" form of a plain query of several words: the text matching all but one of
    them (any of two), and each word with its weight, for ranking by the words a document matches."""

    text: Text
    words: tuple[tuple[Word, float], ...]
    groups: tuple[tuple[Q, float], ...]  # each combination of words the text accepts, with its weight

    def groups_heaviest_first(self) -> list[Q]:
        """The combinations in the order the ranking puts the documents matching just them."""
        by_weight = sorted(self.groups, key=lambda group: -group[1])  # stable: ties keep the query's order
        return [match for match, _ in by_weight]


def _any_word_query(q: str) -> AnyWord | None:
    """``AnyWord`` for a query of two or more plain words, else None (a phrase, ``or`` or ``-word``
    says exactly what the buyer wants)."""
    if not _PLAIN_QUERY.fullmatch(q.strip()):
        return None
    words = list(dict.fromkeys(word.lower() for word in _WORD.findall(q)))
    if len(words) < 2 or _OPERATOR_WORDS & set(words):
        return None
    _, last = _split_last_word(q)
    parts = [_word(word, typed=word == last) for word in words]
    frequencies = dict(SearchTerm.objects.filter(term__in=words).values_list("term", "frequency"))
    if last and not frequencies.get(last):
        # a word still being typed: as common as the commonest word it completes to
        frequencies[last] = _term_completions_frequency(last)
    # a rarer word is worth more: -ln(frequency), shifted so every weight is positive (the ordering
    # among documents matching as many words does not depend on the shift)
    top = max([1, *frequencies.values()])
    weights = [math.log((1 + top) / (1 + frequencies.get(word, 0))) + 1 for word in words]
    # all words but one: "premium coffee machine" finds coffee machines, not everything premium
    need = max(1, len(parts) - 1)
    match = Q()
    groups = []
    for group in combinations(zip(parts, weights, strict=True), need):
        every = Q()
        for part, _ in group:
            every &= part.match
        match |= every
        groups.append((every, sum(weight for _, weight in group)))
    rank = PgSearchQuery(" | ".join(part.rank for part in parts), config=CONFIG, search_type="raw")
    return AnyWord(Text(match, rank), tuple(zip(parts, weights, strict=True)), tuple(groups))


def _term_completions_frequency(prefix: str) -> int:
    return (
        SearchTerm.objects.filter(term__startswith=prefix)
        .order_by("-frequency")
        .values_list("frequency", flat=True)
        .first()
        or 0
    )


def _word_matches(any_word: AnyWord) -> tuple[Expression, Expression]:
    """How many of the words a document matches, and the sum of their weights."""
    matched: Expression = Value(0)
    weight: Expression = Value(0.0)
    for word, word_weight in any_word.words:
        matched = matched + Case(When(word.match, then=Value(1)), default=Value(0), output_field=IntegerField())
        weight = weight + Case(When(word.match, then=Value(word_weight)), default=Value(0.0), output_field=FloatField())
    return matched, weight


def correct_query(q: str) -> str | None:
    """The query with its unknown words corrected, or None when every word is known (or nothing
    close enough was found)."""
    _, last = _split_last_word(q)
    words = {word.lower() for word in _WORD.findall(q)} - _OPERATOR_WORDS
    candidates = {word for word in words if spelling.is_indexable(word)}
    unknown = candidates - spelling.known_words(candidates)
    if last in unknown and spelling.is_known_prefix(last):
        unknown.discard(last)  # still being typed: the prefix match finds it
    corrections = {}
    for word in unknown:
        correction = spelling.correct(word)
        if correction is not None:
            corrections[word] = correction.term
    if not corrections:
        return None
    return _WORD.sub(lambda m: corrections.get(m.group(0).lower(), m.group(0)), q)


def popularity_sql(weights: dict[str, Any]) -> str:
    """The popularity and quality part of the score as SQL, its weights written in as literals (floats
    from settings, never input): the expression index ``search_doc_popularity_idx`` is built from
    this expression with ``DEFAULT_RANKING``'s weights, and PostgreSQL uses it only when a query
    repeats the expression exactly (other weights rank the same, without the index)."""
    return (
        f"(1::float8 + {float(weights['sales_velocity'])!r}::float8"
        " * ln(1::float8 + greatest(sales_velocity, 0::float8))"
        f" + {float(weights['views'])!r}::float8 * ln(1::float8 + views::float8)"
        f" + {float(weights['rating'])!r}::float8 * rating::float8 / 5::float8"
        f" + {float(weights['seller_rating'])!r}::float8 * seller_rating::float8 / 5::float8)"
    )


_SPONSORED_NOW = "coalesce(sponsored_from, '-infinity') <= now() AND sponsored_until > now()"


def _popularity(weights: dict[str, Any]) -> RawSQL:
    return RawSQL(popularity_sql(weights), (), output_field=FloatField())  # noqa: S611 - literals from settings


def _boost(weights: dict[str, Any]) -> RawSQL:
    return RawSQL(  # noqa: S611 - placeholders and literals from settings only
        f"{popularity_sql(weights)} * CASE WHEN {_SPONSORED_NOW} THEN %s ELSE 1 END",
        (float(weights["sponsored"]),),
        output_field=FloatField(),
    )


def _windowed(matching: QuerySet[SearchDocument], size: int, tiers: Sequence[Q] = ()) -> QuerySet[SearchDocument]:
    """The ``size`` most popular of the matches and every sponsored one: what a huge result set is
    ranked over. Read along the popularity index first (short queries), so the ranking reads
    ``size`` rows, not every match.

    ``tiers`` (a relaxed search: all its words, then each combination of words it accepts, the
    heaviest first) stand for the matches in the order the ranking puts them: the most popular
    matches of each are taken in turn until there are ``size``. The page never reaches past them,
    so the commoner words, whose matches cost the most to order, are usually never read ("camping
    monitors": the 200 most popular of the "camping" matches, 160 ms at a million products, once
    there are 200 "monitors")."""
    by_popularity = (_popularity(ranking()).desc(), "-product_id")
    ids: set[int] = set()
    for subset in [matching.filter(tier) for tier in tiers] or [matching]:
        ids.update(subset.order_by(*by_popularity).values_list("product_id", flat=True)[:size])
        if len(ids) >= size:
            break
    ids.update(matching.filter(sponsored_until__gt=Now()).values_list("product_id", flat=True)[:size])
    return SearchDocument.objects.filter(product_id__in=ids)


def _unindexed(field: str, output_field: Field) -> Expression:
    """The column's value in a form none of its indexes serves (``price + 0``), to filter or sort on.

    With a text query the text index finds the matches (tens of thousands at most) and a price
    range, or a sort, is best checked on each of them. Left indexable, PostgreSQL intersects the
    text's matches with an index scan of every product in the price range (180,000 prices: 50-70 ms
    at a million products) before the first row, though the facet sample and the count stop after
    a thousand rows; or it walks a sort column's index, checking the text on every product it
    passes, to find a page of rare matches (seconds)."""
    if isinstance(output_field, DateTimeField):
        return ExpressionWrapper(F(field) + Value(timedelta(0)), output_field=output_field)
    return ExpressionWrapper(F(field) + 0, output_field=output_field)


def _category_q(path: str) -> Q:
    return Q(category_path=path) | Q(category_path__startswith=path + PATH_SEPARATOR)


def _facet_filters(query: SearchQuery, *, indexed: bool = True) -> dict[str, Q]:
    """The filters that have a facet, by facet name (each facet leaves its own out); ``indexed``
    False when a text query finds the matches: the price range is then checked on them
    (``_unindexed``). Brands, category and the minimum rating stay indexed: PostgreSQL knows from its
    statistics how small a few brands, a category or the best-rated products are, and starts from
    that index when it is the smaller set ("tra" in Spices: 80,000 matches of the text, 3,000 spices)."""
    filters: dict[str, Q] = {}
    if query.category:
        filters["category"] = _category_q(query.category)
    if query.brands:
        filters["brand"] = Q(brand__in=query.brands)
    price_value = F("price") if indexed else _unindexed("price", DecimalField())
    price = Q()
    if query.min_price is not None:
        price &= Q(GreaterThanOrEqual(price_value, query.min_price))
    if query.max_price is not None:
        price &= Q(LessThanOrEqual(price_value, query.max_price))
    if price:
        filters["price"] = price
    if query.min_rating is not None:
        filters["rating"] = Q(rating__gte=query.min_rating)
    return filters


def _base(query: SearchQuery, text: Text | None) -> QuerySet[SearchDocument]:
    """Documents matching the text and the filters without a facet (seller, in stock)."""
    documents = SearchDocument.objects.all()
    if text is not None:
        documents = documents.filter(text.match)
    if query.seller:
        documents = documents.filter(seller_id__in=Seller.objects.filter(slug=query.seller).values("id"))
    if query.in_stock:
        documents = documents.filter(in_stock=True)
    return documents


def _ordered(
    documents: QuerySet[SearchDocument], sort: Sort, text: Text | None, any_word: AnyWord | None = None
) -> QuerySet:
    """The documents in the order of ``sort``; in a relaxed search, those matching more of the words
    (and rarer ones) first, then in that order."""
    first: list[str] = []
    if any_word is not None:
        matched, weight = _word_matches(any_word)
        documents = documents.annotate(words_matched=matched, words_weight=weight)
        first = ["-words_matched", "-words_weight"]
    if text is None:  # browsing: the indexes of the sort columns give the first page at once
        price, created_at, rating = F("price"), F("created_at"), F("rating")
    else:  # the text's matches, sorted (walking a sort column's index checks every product on the way)
        price = _unindexed("price", DecimalField())
        created_at = _unindexed("created_at", DateTimeField())
        rating = _unindexed("rating", DecimalField())
    if sort is Sort.PRICE_ASC:
        return documents.order_by(*first, price.asc(), "product_id")
    if sort is Sort.PRICE_DESC:
        return documents.order_by(*first, price.desc(), "-product_id")
    if sort is Sort.NEWEST:
        return documents.order_by(*first, created_at.desc(), "-product_id")
    weights = ranking()
    boost = _boost(weights)
    if text is None:
        score = boost
    else:
        rank = SearchRank(
            F("document"), text.rank, weights=weights["field_weights"], cover_density=True, normalization=Value(1)
        )
        score = ExpressionWrapper(rank * boost, output_field=FloatField())
    documents = documents.annotate(score=score)
    if sort is Sort.RATING:
        return documents.order_by(*first, rating.desc(), "-score", "-product_id")
    return documents.order_by(*first, "-score", "-product_id")


# The facet counts of a sample of matches (``{sample}``: brand, category path, price, rating, then a
# flag for each facet filter; up to FACET_SAMPLE + 1 rows), in one statement: the rows are numbered
# as read and the first FACET_SAMPLE counted, per brand, category path, price bucket and whole star,
# each by the filters its rows fail (``{failed}``: one bit per filter); "all" is the sample's size
# (FACET_SAMPLE + 1: there are more matches) and "row" the counts by failed filters alone.
_FACET_COUNTS = """
WITH sample AS (
    SELECT brand, category_path, width_bucket(price, %s::numeric[]) AS bucket,
           floor(rating)::int AS stars, ({failed}) AS failed, row_number() OVER () AS n
    FROM ({sample}) AS matches (brand, category_path, price, rating{flags})
)
SELECT 'brand', brand, failed, count(*) FROM sample WHERE n <= %s GROUP BY brand, failed
UNION ALL SELECT 'category', category_path, failed, count(*) FROM sample WHERE n <= %s GROUP BY category_path, failed
UNION ALL SELECT 'price', bucket::text, failed, count(*) FROM sample WHERE n <= %s GROUP BY bucket, failed
UNION ALL SELECT 'rating', stars::text, failed, count(*) FROM sample WHERE n <= %s GROUP BY stars, failed
UNION ALL SELECT 'row', NULL, failed, count(*) FROM sample WHERE n <= %s GROUP BY failed
UNION ALL SELECT 'all', NULL, 0, count(*) FROM sample
"""


class PostgresBackend(SearchBackend):
    def search(self, query: SearchQuery) -> SearchResult:
        suggestion = correct_query(query.q) if query.q.strip() else None
        searched = suggestion or query.q
        text = strict = _text_query(searched)
        base = _base(query, text)
        filters = _facet_filters(query, indexed=text is None)
        matching = base.filter(*filters.values())

        facets, count = self._facets_and_count(query, base, filters)
        any_word = _any_word_query(searched) if text is not None and count < relaxed_below() else None
        if any_word is not None:
            relaxed_base = _base(query, any_word.text)
            relaxed_facets, relaxed_count = self._facets_and_count(query, relaxed_base, filters)
            if relaxed_count > count:
                text, base, count, facets = any_word.text, relaxed_base, relaxed_count, relaxed_facets
                matching = relaxed_base.filter(*filters.values())
            else:
                any_word = None
        offset = (query.page - 1) * query.page_size
        ranked = matching
        if count > COUNT_CAP and query.sort in (Sort.RELEVANCE, Sort.RATING):
            # Too many matches to score them all (each costs a read of its row): score the most
            # popular RANK_WINDOW (and the sponsored ones; in a relaxed search, those of all the
            # words, then of each combination it accepts in ranking order, until the window is
            # full). Without a query this is exact, since the score is then popularity times the
            # sponsored factor; with one it is an approximation.
            tiers = []
            if any_word is not None and strict is not None:
                tiers = [strict.match, *any_word.groups_heaviest_first()]
            ranked = _windowed(matching, max(RANK_WINDOW, offset + query.page_size), tiers)
        rows = _ordered(ranked, query.sort, text, any_word).values(
            "product_id", "slug", "title", "brand", "price", "currency", "rating", "in_stock", "seller_id", "image"
        )[offset : offset + query.page_size]
        return SearchResult(
            count=min(count, COUNT_CAP),
            count_is_capped=count > COUNT_CAP,
            results=[Hit(**row) for row in rows],
            facets=facets,
            suggestion=suggestion,
            relaxed=any_word is not None,
            query=query,
        )

    def _facets_and_count(
        self, query: SearchQuery, base: QuerySet[SearchDocument], filters: dict[str, Q]
    ) -> tuple[Facets, int]:
        """The facets, and the number of matches of every filter (up to ``COUNT_CAP + 1``): counted in
        the facet sample when it holds every base match, else by a query of its own."""
        facets, count = self._facets(query, base, filters)
        if count is None and not filters and FACET_SAMPLE >= COUNT_CAP:
            count = COUNT_CAP + 1  # more than FACET_SAMPLE matches, and no facet filter to cut them
        elif count is None:
            count = base.filter(*filters.values()).order_by()[: COUNT_CAP + 1].count()
        return facets, count

    def _facets(
        self, query: SearchQuery, base: QuerySet[SearchDocument], filters: dict[str, Q]
    ) -> tuple[Facets, int | None]:
        """All four disjunctive facets from one read of up to ``FACET_SAMPLE`` base matches (unranked),
        and the number of those passing every filter when the sample holds every match (else None).

        PostgreSQL counts them (``_FACET_COUNTS``): a thousand rows never cross the wire, only a
        count for each brand, category, price bucket and star step, by the filters its rows fail."""
        names = list(filters)
        sample = (
            base.order_by()
            .annotate(**{f"in_{name}": _flag(condition) for name, condition in filters.items()})
            .values_list("brand", "category_path", "price", "rating", *(f"in_{name}" for name in names))[
                : FACET_SAMPLE + 1
            ]
        )
        try:
            sample_sql, params = sample.query.get_compiler(using=sample.db).as_sql()
        except EmptyResultSet:  # a filter that can match nothing (brand__in=[]): no query at all
            return Facets(), 0
        failed = " + ".join(f"(CASE WHEN in_{name} THEN 0 ELSE {1 << i} END)" for i, name in enumerate(names)) or "0"
        with connections[sample.db].cursor() as cursor:
            cursor.execute(
                _FACET_COUNTS.format(sample=sample_sql, failed=failed, flags="".join(f", in_{name}" for name in names)),
                (PRICE_BUCKETS, *params, *[FACET_SAMPLE] * 5),
            )
            counted = cursor.fetchall()
        sampled = next(n for kind, *_, n in counted if kind == "all")
        approximate = sampled > FACET_SAMPLE
        bits = {name: 1 << i for i, name in enumerate(names)}

        def counted_for(kind: str, facet: str) -> Iterable[tuple[Any, int]]:
            # a value counts the rows failing no filter, or only the facet's own
            own = bits.get(facet, 0)
            return ((value, n) for k, value, failed_bits, n in counted if k == kind and failed_bits in (0, own))

        brands: Counter = Counter()
        for brand, n in counted_for("brand", "brand"):
            if brand:
                brands[brand] += n
        categories: Counter = Counter()
        for path, n in counted_for("category", "category"):
            if key := _category_key(path, query.category):
                categories[key] += n
        buckets: Counter = Counter()
        for bucket, n in counted_for("price", "price"):
            buckets[int(bucket)] += n
        stars: Counter = Counter()
        for star, n in counted_for("rating", "rating"):
            stars[int(star)] += n
        facets = Facets(
            brand=[FacetValue(value, n) for value, n in _top(brands, BRAND_FACET_SIZE)],
            category=_category_facet(_top(categories, CATEGORY_FACET_SIZE)),
            price=_price_buckets(buckets),
            rating=[RatingBucket(m, n) for m in RATING_BUCKETS if (n := sum(c for s, c in stars.items() if s >= m))],
            approximate=approximate,
        )
        count = (
            None if approximate else sum(n for kind, _, failed_bits, n in counted if kind == "row" and not failed_bits)
        )
        return facets, count

    def suggest(self, prefix: str, *, limit: int) -> list[str]:
        prefix = " ".join(prefix.lower().split())
        if not prefix:
            return []
        found: list[str] = [q for q in _popular_queries() if q.startswith(prefix)][:limit]
        if len(prefix) >= SUGGESTION_MIN_PREFIX:
            found += Brand.objects.filter(name__istartswith=prefix).order_by("name").values_list("name", flat=True)[:3]
            found += (
                Category.objects.filter(name__istartswith=prefix)
                .order_by("depth", "name")
                .values_list("name", flat=True)[:3]
            )
            head, last = _split_last_word(prefix)
            if last:
                terms = _term_completions(last, limit=5)
                found += [f"{head}{term}" for term in terms]
            # a word of one or two letters starts too many words for the title index: completing it
            # reads thousands of index entries ("nordic labs c": 0.1-2 s at a million products)
            if len(last) >= TITLE_COMPLETION_MIN_WORD:
                found += _title_completions(head, last, limit=3)
        unique: dict[str, str] = {}
        for suggestion in found:
            unique.setdefault(suggestion.lower(), suggestion)
        return list(unique.values())[:limit]


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def _top(counter: Counter, size: int) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:size]


def _category_key(path: str, selected: str) -> str | None:
    """The facet value a document's category counts for: its top-level category, or the child of the
    selected category it lies under (None for the selected category itself)."""
    if not selected:
        return path.split(PATH_SEPARATOR, 1)[0]
    below = path[len(selected) + 1 :] if path.startswith(selected + PATH_SEPARATOR) else ""
    if not below:
        return None
    return f"{selected}{PATH_SEPARATOR}{below.split(PATH_SEPARATOR, 1)[0]}"


def _category_facet(counts: list[tuple[str, int]]) -> list[FacetValue]:
    names = _category_names() if counts else {}
    return [FacetValue(path, n, names.get(path, path)) for path, n in counts]


CATEGORY_NAMES_TTL = 60  # seconds: a renamed category shows its new name in facets within a minute
_category_names_copy: tuple[float | None, dict[str, str]] = (None, {})


def _category_names() -> dict[str, str]:
    """Every category's name by path, from this process's copy (a few hundred short strings) while
    it is younger than ``CATEGORY_NAMES_TTL``: a facet names its categories without a query."""
    global _category_names_copy
    read_at, names = _category_names_copy
    if read_at is None or time.monotonic() - read_at > CATEGORY_NAMES_TTL:
        names = dict(Category.objects.values_list("path", "name"))
        _category_names_copy = (time.monotonic(), names)
    return names


def forget_category_names() -> None:
    """Drop this process's copy of the category names (tests: each builds its own tree)."""
    global _category_names_copy
    _category_names_copy = (None, {})


def _price_buckets(counts: Counter) -> list[PriceBucket]:
    """``counts`` by bucket number: ``width_bucket(price, PRICE_BUCKETS)``, 1 for the first bucket."""
    buckets = []
    for i, low in enumerate(PRICE_BUCKETS):
        high = PRICE_BUCKETS[i + 1] if i + 1 < len(PRICE_BUCKETS) else None
        if n := counts.get(i + 1):
            buckets.append(PriceBucket(low, high, n))
    return buckets


def _popular_queries() -> list[str]:
    """The most frequent queries, from Redis for ``POPULAR_QUERIES_TTL`` seconds (the database when
    Redis is down: the cache ignores its errors)."""
    queries = cache.get(POPULAR_QUERIES_CACHE_KEY)
    if queries is None:
        queries = list(
            PopularQuery.objects.order_by("-count", "query").values_list("query", flat=True)[:POPULAR_QUERIES_CACHED]
        )
        cache.set(POPULAR_QUERIES_CACHE_KEY, queries, POPULAR_QUERIES_TTL)
    return queries


def _term_completions(prefix: str, *, limit: int) -> list[str]:
    """Vocabulary words starting with ``prefix``, the most frequent first (an index range scan)."""
    terms = SearchTerm.objects.filter(term__startswith=prefix).order_by("-frequency", "term")
    return list(terms.values_list("term", flat=True)[:limit])


def _title_completions(head: str, last: str, *, limit: int) -> list[str]:
    """Titles whose words start with what was typed. The names index (``names``: title, brand and
    category words) is asked for documents with every word or a word it starts (``_started_words``);
    the first ``TITLE_CANDIDATES`` are kept when their title has every word (a brand or category
    word is not one)."""
    words = [word.lower() for word in _WORD.findall(head)] + [last]
    raw = " & ".join(f"({word} | {started})" if (started := _started_words(word)) else word for word in words)
    candidates = (
        SearchDocument.objects.filter(_names_match(raw)).order_by().values_list("title", flat=True)[:TITLE_CANDIDATES]
    )
    found = []
    for title in candidates:
        title_words = [word.lower() for word in _WORD.findall(title)]
        if all(any(t.startswith(word) for t in title_words) for word in words):
            found.append(title)
    return found[:limit]
