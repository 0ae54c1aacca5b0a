"""Template tags and filters of the storefront: ``{% load storefront_tags %}``."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.safestring import SafeString, mark_safe

from storefront import icons, live

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


@register.simple_tag
def icon(name: str, **options) -> SafeString:
    """``{% icon "cart" %}`` or ``{% icon "sort" class="feature-icon" %}``: an inline SVG icon, built
    once per process (storefront.icons) rather than rendered by an include each time."""
    return icons.svg(name, options.get("class") or "")


@register.simple_tag(takes_context=True)
def live_part(context: template.Context, name: str) -> SafeString:
    """``{% live_part "header" %}``: a part of the page that belongs to the visitor (storefront.live).
    In a page built for the cache it leaves a hole, filled on each request; elsewhere it renders in place.
    Without a request (an include with ``only``, or render_to_string) it leaves a hole too: a visitor's
    part rendered without knowing the visitor could end up cached for everyone."""
    request = context.get("request")
    if context.get(live.AS_HOLES) or request is None:
        return mark_safe(live.marker(name))  # noqa: S308 - a fixed comment around a tag name
    return mark_safe(live.render_part(name, request))  # noqa: S308 - escaped where built


@register.filter
def stars(rating) -> str:
    """``{{ 4.3|stars }}``: "★★★★☆", the rating rounded to whole stars (text; screen readers get a label)."""
    try:
        filled = min(max(int(Decimal(str(rating)).to_integral_value(rounding=ROUND_HALF_UP)), 0), 5)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return "★" * filled + "☆" * (5 - filled)
