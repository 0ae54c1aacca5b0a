"""The interface every search backend implements, and the values that cross it.

Views and the API build a ``SearchQuery`` (already validated: ``search.selectors`` checks the raw
parameters) and get a ``SearchResult`` back; neither knows whether PostgreSQL or Elasticsearch
answered.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Sort(StrEnum):
    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    RATING = "rating"
    NEWEST = "newest"


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    category: str = ""  # a category path ("electronics/phones"): that category and its descendants
    brands: tuple[str, ...] = ()
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    min_rating: Decimal | None = None
    seller: str = ""  # a seller's slug
    in_stock: bool = False
    sort: Sort = Sort.RELEVANCE
    page: int = 1
    page_size: int = 24


@dataclass(frozen=True)
class Hit:
    """One result, with what a result row shows (no further query needed)."""

    product_id: int
    slug: str
    title: str
    brand: str
    price: Decimal
    currency: str
    rating: Decimal
    in_stock: bool
    seller_id: int
    image: dict[str, Any] | None  # catalog renditions ({"thumbnail": {...}, ...}) or None


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    label: str = ""  # what to show (a category's name); the value itself when empty


@dataclass(frozen=True)
class PriceBucket:
    min: Decimal
    max: Decimal | None  # None: and above
    count: int


@dataclass(frozen=True)
class RatingBucket:
    min: int
    count: int


@dataclass
class Facets:
    brand: list[FacetValue] = field(default_factory=list)
    category: list[FacetValue] = field(default_factory=list)
    price: list[PriceBucket] = field(default_factory=list)
    rating: list[RatingBucket] = field(default_factory=list)
    approximate: bool = False  # counted over the best matches only (a huge result set)


@dataclass
class SearchResult:
    count: int
    count_is_capped: bool  # there are more than ``count`` matches ("10,000+")
    results: list[Hit]
    facets: Facets
    suggestion: str | None = None  # the corrected query that was searched, when the query looked misspelt
    # Too few products matched every word: these match any of them, those matching more words first.
    relaxed: bool = False
    query: SearchQuery | None = None


class SearchBackend(abc.ABC):
    @abc.abstractmethod
    def search(self, query: SearchQuery) -> SearchResult: ...

    @abc.abstractmethod
    def suggest(self, prefix: str, *, limit: int) -> list[str]:
        """Completions of what a buyer is typing, best first."""
