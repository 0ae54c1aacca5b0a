"""The product page's buy box: price, variant picker, live availability and the add-to-cart form.

It is the one part of a product page that changes with stock, so it renders on every request, into
the hole the cached page leaves for it (``{% live "buy_box" %}``, storefront.live). Running a Django
template for it on every request would cost more than the rest of the page, so it is built in two
steps: ``prepare`` escapes and formats everything that depends only on the product, once, when the
page is cached; ``render`` puts the stock in, with nothing left to escape.

The markup is what shop.js expects: without JavaScript the <select> picks the variant; shop.js shows
the attribute radios instead and keeps the select, price and stock in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape

from cart import services as cart_services
from storefront import icons
from storefront.selectors import display_attributes
from storefront.templatetags.storefront_tags import money

MAX_QUANTITY = cart_services.max_line_quantity()  # the quantity box's bound; the cart checks the stock itself
LOW_STOCK_SHOWN = 5  # "Only 3 left" from here down: urgency that is true, not a countdown gimmick


@dataclass(frozen=True)
class VariantStock:
    available: int
    label: str  # "In stock", "Only 3 left", "Out of stock"
    state: str  # "in-stock", "low", "out": a CSS modifier


def stock_label(available: int) -> VariantStock:
    if available <= 0:
        return VariantStock(0, "Out of stock", "out")
    if available <= LOW_STOCK_SHOWN:
        return VariantStock(available, f"Only {available} left", "low")
    return VariantStock(available, "In stock", "in-stock")


def prepare(product: Mapping[str, Any]) -> dict[str, Any]:
    """What the buy box shows of a product whatever the stock, escaped and formatted: plain dicts,
    lists and strings, cached with the page."""
    variants = []
    for variant in product["variants"]:
        price = escape(money(variant["price"], variant["currency"]))
        was = escape(money(variant["compare_at_price"], variant["currency"]))
        sku = escape(variant["sku"])
        variants.append(
            {
                "id": variant["id"],
                "sku": sku,
                "price": price,
                "was": was,
                "chosen": display_attributes(variant["attributes"]),  # the option values it stands for
                "option": (
                    f'data-variant-attributes="{escape(variant["attributes_json"])}" data-variant-price="{price}" '
                    f'data-variant-was="{was}"'
                ),
                "text": f"{escape(variant['label'])} · {price}",
            }
        )
    options = [
        {
            "name": option["name"],
            "head": (
                f'<fieldset class="option-group" data-option="{escape(option["name"])}" hidden>'
                f'<legend class="option-legend">{escape(option["label"])}</legend><div class="option-values">'
            ),
            "values": [
                (value, f'<label class="option"><input type="radio" name="option-{escape(option["name"])}" '
                        f'value="{escape(value)}"', f"><span>{escape(value)}</span></label>")
                for value in option["values"]
            ],
        }
        for option in product["options"]
    ]  # fmt: skip
    return {"variants": variants, "options": options}


def variant_ids(prepared: Mapping[str, Any]) -> list[int]:
    return [variant["id"] for variant in prepared["variants"]]


_UNAVAILABLE = (
    '<p class="stock stock-out" role="status">Currently unavailable</p>'
    '<p class="muted">The seller is not offering this product at the moment.</p>'
)
_OPTION_MISSING = (
    '<p class="option-missing" data-option-missing hidden>This combination is not available. Choose another.</p>'
)


def render(prepared: Mapping[str, Any], available: Mapping[int, int], csrf_input: str) -> str:
    """The buy box for this request: ``available`` units by variant id (a missing variant has none)."""
    variants = prepared["variants"]
    parts = ['<form class="buy-box" method="post" action="/cart/items/" data-variant-picker>', csrf_input]
    if not variants:
        parts += [_UNAVAILABLE, "</form>"]
        return "".join(parts)
    stock = [stock_label(available.get(variant["id"], 0)) for variant in variants]
    # The variant shown first: the first one in stock, else the first one.
    index = next((i for i, variant_stock in enumerate(stock) if variant_stock.available > 0), 0)
    selected, selected_stock = variants[index], stock[index]
    sale = " price-sale" if selected["was"] else ""
    hidden = "" if selected["was"] else " hidden"
    parts.append(
        f'<p class="product-price"><span class="price price-lg{sale}" data-price>{selected["price"]}</span>'
        f'<s class="price-was" data-price-was{hidden}><span class="visually-hidden">was </span>'
        f"<span data-price-was-amount>{selected['was']}</span></s></p>"
    )
    if len(variants) > 1:
        chosen = selected["chosen"]
        for option in prepared["options"]:
            parts.append(option["head"])
            current = chosen.get(option["name"])
            for value, head, tail in option["values"]:
                parts += [head, " checked" if value == current else "", tail]
            parts.append("</div></fieldset>")
        parts.append(_OPTION_MISSING)
        parts.append(
            '<div class="field" data-variant-select><label for="variant-sku">Option</label>'
            '<select id="variant-sku" name="sku" required>'
        )
        for i, (variant, variant_stock) in enumerate(zip(variants, stock, strict=True)):
            flags = (" selected" if i == index else "") + ("" if variant_stock.available else " disabled")
            parts.append(
                f'<option value="{variant["sku"]}"{flags} {variant["option"]} '
                f'data-variant-stock="{variant_stock.label}" data-variant-stock-state="{variant_stock.state}" '
                f'data-variant-available="{variant_stock.available}">{variant["text"]} · {variant_stock.label}</option>'
            )
        parts.append("</select></div>")
    else:
        parts.append(f'<input type="hidden" name="sku" value="{selected["sku"]}">')
    most = max(variant_stock.available for variant_stock in stock)
    max_quantity = max(1, min(most, MAX_QUANTITY))
    disabled = "" if selected_stock.available else " disabled"
    parts.append(
        f'<p class="stock stock-{selected_stock.state}" data-stock role="status">{selected_stock.label}</p>'
        '<div class="buy-row"><div class="field quantity-field"><label for="quantity">Quantity</label>'
        f'<input id="quantity" type="number" name="quantity" value="1" min="1" max="{max_quantity}" step="1" '
        'inputmode="numeric" required data-quantity></div>'
        f'<button class="button primary button-lg buy-button" type="submit" data-add-to-cart{disabled}>'
        f"{icons.svg('cart')} Add to cart</button></div></form>"
    )
    return "".join(parts)
