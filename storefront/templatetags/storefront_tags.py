"""Template filters of the storefront: ``{% load storefront_tags %}``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()

# Symbols written before the amount; any other currency is written after it by its code ("12.00 CHF").
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


@register.filter
def money(amount, currency: str = "EUR") -> str:
    """``{{ price|money:currency }}``: "€1,299.00". Empty for no amount (a product without a price)."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    text = f"{value:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    return f"{symbol}{text}" if symbol else f"{text} {currency}"
