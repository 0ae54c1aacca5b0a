"""Offline relevance evaluation: nDCG@10 and the zero-result rate of the configured backend over a
judged query set (``judged.json`` next to this module; its "about" says how judgements are written).

A judgement is a set of rules rather than product ids, because the demo catalogue is generated: a
product's grade is the highest grade among the rules it satisfies. The same rules are evaluated in
Python (for the products a search returned) and as a query (to count how many products of each grade
exist, for the ideal ranking), and ``tests/test_relevance.py`` checks that both agree.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import Q

from catalog.models import PATH_SEPARATOR
from search.backends.base import SearchQuery
from search.models import SearchDocument
from search.selectors import search_products

JUDGED_PATH = Path(__file__).with_name("judged.json")
CUTOFF = 10  # nDCG@10: the first page a buyer reads
CRITERIA = {"category", "brand", "brand_prefix", "title_contains_all"}


@dataclass(frozen=True)
class Judgement:
    q: str
    kind: str
    rules: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class QueryScore:
    judgement: Judgement
    count: int
    grades: tuple[int, ...]  # of the first CUTOFF results, in order
    ndcg: float
    suggestion: str | None


@dataclass
class Report:
    scores: list[QueryScore] = field(default_factory=list)

    @property
    def ndcg(self) -> float:
        return sum(s.ndcg for s in self.scores) / len(self.scores) if self.scores else 0.0

    @property
    def zero_result_rate(self) -> float:
        return sum(1 for s in self.scores if s.count == 0) / len(self.scores) if self.scores else 0.0

    def by_kind(self) -> dict[str, float]:
        kinds: dict[str, list[float]] = {}
        for score in self.scores:
            kinds.setdefault(score.judgement.kind, []).append(score.ndcg)
        return {kind: sum(values) / len(values) for kind, values in kinds.items()}


def judgements_load(path: Path = JUDGED_PATH) -> list[Judgement]:
    data = json.loads(path.read_text())
    judgements = []
    for entry in data["queries"]:
        for rule in entry["relevant"]:
            unknown = set(rule) - CRITERIA - {"grade"}
            if unknown or rule.get("grade") not in (1, 2):
                raise ValueError(f"judgement {entry['q']!r}: bad rule {rule}")
        judgements.append(Judgement(entry["q"], entry.get("kind", ""), tuple(entry["relevant"])))
    return judgements


def rule_matches(rule: dict[str, Any], *, title: str, brand: str, category_path: str) -> bool:
    if "category" in rule:
        path = rule["category"]
        if category_path != path and not category_path.startswith(path + PATH_SEPARATOR):
            return False
    if "brand" in rule and brand.lower() != rule["brand"].lower():
        return False
    if "brand_prefix" in rule and not brand.lower().startswith(rule["brand_prefix"].lower()):
        return False
    return all(part.lower() in title.lower() for part in rule.get("title_contains_all", ()))


def rule_q(rule: dict[str, Any]) -> Q:
    """``rule_matches`` as a filter on ``SearchDocument``."""
    condition = Q()
    if "category" in rule:
        path = rule["category"]
        condition &= Q(category_path=path) | Q(category_path__startswith=path + PATH_SEPARATOR)
    if "brand" in rule:
        condition &= Q(brand__iexact=rule["brand"])
    if "brand_prefix" in rule:
        condition &= Q(brand__istartswith=rule["brand_prefix"])
    for part in rule.get("title_contains_all", ()):
        condition &= Q(title__icontains=part)
    return condition


def grade(rules: Iterable[dict[str, Any]], **product: str) -> int:
    return max((rule["grade"] for rule in rules if rule_matches(rule, **product)), default=0)


def dcg(grades: Iterable[int]) -> float:
    return sum((2**g - 1) / math.log2(rank + 2) for rank, g in enumerate(grades))


def ideal_grades(rules: Iterable[dict[str, Any]], *, cutoff: int = CUTOFF) -> list[int]:
    """The best possible first page: the catalogue's grade-2 products first, then its grade-1 ones."""
    rules = list(rules)
    ideal: list[int] = []
    for level in (2, 1):
        condition = Q(pk__in=[])
        for rule in rules:
            if rule["grade"] >= level:
                condition |= rule_q(rule)
        found = SearchDocument.objects.filter(condition).order_by()[:cutoff].count()
        ideal += [level] * (found - len(ideal))
    return ideal[:cutoff]


def query_score(judgement: Judgement) -> QueryScore:
    result = search_products(SearchQuery(q=judgement.q, page_size=CUTOFF))
    ids = [hit.product_id for hit in result.results]
    paths = dict(SearchDocument.objects.filter(product_id__in=ids).values_list("product_id", "category_path"))
    grades = tuple(
        grade(judgement.rules, title=hit.title, brand=hit.brand, category_path=paths.get(hit.product_id, ""))
        for hit in result.results
    )
    best = dcg(ideal_grades(judgement.rules))
    return QueryScore(
        judgement=judgement,
        count=result.count,
        grades=grades,
        ndcg=dcg(grades) / best if best else 0.0,
        suggestion=result.suggestion,
    )


def relevance_evaluate(
    judgements: Iterable[Judgement] | None = None, *, progress: Callable[[QueryScore], None] = lambda score: None
) -> Report:
    """Run every judged query on the configured backend and score its first page."""
    report = Report()
    for judgement in judgements if judgements is not None else judgements_load():
        score = query_score(judgement)
        report.scores.append(score)
        progress(score)
    return report
