"""Filters of the email templates: ``{% load email_tags %}``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()

# Symbols written before the amount; any other currency is written after it by its code ("12.00 CHF").
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


@register.filter
def money(amount, currency: str = "EUR") -> str:
    """``{{ total|money:order.currency }}``: "€1,299.00"; a refund of -5 is "-€5.00"."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    sign = "-" if value < 0 else ""
    text = f"{abs(value):,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


@register.filter
def address_lines(address) -> list[str]:
    """The non-empty lines of an address snapshot (``Order.address``), in postal order."""
    if not isinstance(address, dict):
        return []
    city = " ".join(part for part in (address.get("postal_code", ""), address.get("city", "")) if part)
    lines = [address.get("full_name", ""), address.get("line1", ""), address.get("line2", ""), city]
    lines.append(address.get("country", ""))
    if address.get("phone"):
        lines.append(f"Phone {address['phone']}")
    return [str(line).strip() for line in lines if line and str(line).strip()]


@register.filter
def percent(rate) -> str:
    """``{{ line.tax_rate|percent }}``: 0.1900 is "19%", 0.0725 is "7.25%"."""
    try:
        value = Decimal(rate) * 100
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return f"{value.normalize():f}%"
