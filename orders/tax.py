"""Tax: the seam for a tax service.

**Prices are tax-exclusive.** A variant's price, shipping prices and discounts are net amounts; tax is
added on top at checkout, per line, on the line's net amount after its share of the discount plus its
share of the shipping: ``line.tax = round(rate * (subtotal - discount + shipping))``. So the order's
``total = subtotal - discount + shipping + tax`` and each line's tax is a stored amount a partial
refund gives back exactly.

The calculator is chosen by the setting ``TAX_CALCULATOR`` (a dotted path to a class with
``rates_for(*, country, category_paths) -> dict[str, Decimal]``). The built-in ``RuleBasedTax`` reads
``orders.TaxRate`` rules: a rate per country, for a category and its subtree (through the category's
materialized path) or for every category; the most specific rule wins (the deepest category, then
the country's default); no rule at all is 0. An external tax service (Avalara, TaxJar, Stripe Tax)
plugs in as another class behind the same method.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from orders.models import TaxRate

PATH_SEPARATOR = "/"  # catalog.Category.path
NO_TAX = Decimal("0")
DEFAULT_CALCULATOR = "orders.tax.RuleBasedTax"


class TaxCalculator(Protocol):
    def rates_for(self, *, country: str, category_paths: Iterable[str]) -> dict[str, Decimal]:
        """The tax rate of goods of each category path, shipped to ``country``."""


def _prefixes(path: str) -> list[str]:
    parts = path.split(PATH_SEPARATOR)
    return [PATH_SEPARATOR.join(parts[:i]) for i in range(len(parts), 0, -1)]  # deepest first


class RuleBasedTax:
    """Rates from ``TaxRate`` rules: one query for all the categories of a checkout."""

    def rates_for(self, *, country: str, category_paths: Iterable[str]) -> dict[str, Decimal]:
        paths = set(category_paths)
        wanted = {prefix for path in paths for prefix in _prefixes(path)}
        rules = TaxRate.objects.filter(country=(country or "").upper()).select_related("category")
        by_path: dict[str | None, Decimal] = {}
        for rule in rules:
            path = rule.category.path if rule.category_id else None
            if path is None or path in wanted:
                by_path[path] = rule.rate
        default = by_path.get(None, NO_TAX)
        return {
            path: next((by_path[prefix] for prefix in _prefixes(path) if prefix in by_path), default) for path in paths
        }


@lru_cache(maxsize=4)
def _calculator(dotted_path: str) -> TaxCalculator:
    return import_string(dotted_path)()


def calculator() -> TaxCalculator:
    return _calculator(getattr(settings, "TAX_CALCULATOR", DEFAULT_CALCULATOR))


def tax_rates_for(*, country: str, category_paths: Iterable[str]) -> dict[str, Decimal]:
    """The rate for each category path, from the configured calculator."""
    return calculator().rates_for(country=country, category_paths=category_paths)
