"""Commands of the seller back office that span several apps: a product with its variants (catalog)
and their stock (inventory), written in one transaction.

``data`` has the seller API's shape (API.md, "Sellers")::

    {"title", "description", "category": "<slug or path>", "brand": "<name>", "attributes": {...},
     "status": "active" | "draft" | "archived",
     "variants": [{"sku", "price", "stock", "attributes", "compare_at_price", "currency", "weight_grams"}]}

Values may be JSON types or the strings a CSV import reads ("19.99", "12"). Bad input raises
``django.core.exceptions.ValidationError`` keyed by those names (``category``, ``variants.0.stock``,
``attributes.colour``); a seller whose status forbids the change, ``catalog.services.SellerCannotPublish``.
Nothing is swallowed and nothing commits on its own: inside a caller's transaction (the CSV import
runs every row in one) each call is a savepoint, and the caller decides.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from catalog import services as catalog_services
from catalog.models import PATH_SEPARATOR, Category, Product, Variant
from inventory import services as inventory_services
from sellers.models import Seller
from shop.core.money import DEFAULT_CURRENCY

PRODUCT_FIELDS = {"title", "description", "category", "brand", "attributes", "status", "variants"}
VARIANT_FIELDS = {"sku", "price", "stock", "attributes", "compare_at_price", "currency", "weight_grams"}
INITIAL_STOCK_REASON = "initial stock"
STOCK_SET_REASON = "set by seller"

Errors = dict[str, list[str]]


def _add(errors: Errors, key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def category_for_reference(reference: Any, errors: Errors) -> Category | None:
    """The category a seller names by slug ("smartphones") or, where a slug repeats in the tree, by
    path ("fashion/accessories/bags")."""
    if not isinstance(reference, str) or not reference.strip():
        _add(errors, "category", "Choose a category (its slug, such as smartphones).")
        return None
    reference = reference.strip().strip(PATH_SEPARATOR).lower()
    if PATH_SEPARATOR in reference:
        category = Category.objects.filter(path=reference).first()
        if category is None:
            _add(errors, "category", f"There is no category {reference!r}.")
        return category
    matches = list(Category.objects.filter(slug=reference).order_by("path")[:2])
    if not matches:
        _add(errors, "category", f"There is no category {reference!r}.")
        return None
    if len(matches) > 1:
        _add(
            errors,
            "category",
            f"Several categories are called {reference!r}; give its path, such as {matches[0].path!r}.",
        )
        return None
    return matches[0]


def _refuse_unknown(data: dict, allowed: set[str], prefix: str, errors: Errors) -> None:
    for name in sorted(set(data) - allowed, key=str):
        _add(errors, f"{prefix}{name}"[:100], "Unknown field.")


def _amount(value: Any, key: str, errors: Errors) -> Decimal | None:
    """A Decimal from what a client or a CSV cell holds; its rules (positive, cents) are the catalog's."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return Decimal(str(value).strip())
        except InvalidOperation:
            pass
    _add(errors, key, 'Enter an amount as a decimal, such as "19.99".')
    return None


def _count(value: Any, key: str, errors: Errors) -> int | None:
    """Units of stock: a whole number from 0 to inventory's maximum, as an int or a string of digits."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= inventory_services.MAX_ON_HAND:
        _add(errors, key, f"Stock is a whole number from 0 to {inventory_services.MAX_ON_HAND:,}.")
        return None
    return value


def _weight(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if value is None or value == "":
        return 0
    return value  # anything else is judged by the catalog, with its message


def _with_request_indexes(exc: ValidationError, indexes: list[int]) -> ValidationError:
    """The catalog's errors keyed by the variant's index in the request rather than in the list
    passed to the catalog (which leaves out the rows that only set stock)."""
    errors: Errors = {}
    for key, messages in exc.message_dict.items():
        parts = key.split(".", 2)
        if parts[0] == "variants" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(indexes):
            parts[1] = str(indexes[int(parts[1])])
        errors.setdefault(".".join(parts), []).extend(messages)
    return ValidationError(errors)


def _variant_rows(variants: Any, errors: Errors) -> list[dict]:
    if variants is None:
        return []
    if not isinstance(variants, list | tuple) or not all(isinstance(row, dict) for row in variants):
        _add(errors, "variants", 'Variants are a list of objects, such as [{"sku": "TEE-M", "price": "19.99"}].')
        return []
    if len(variants) > catalog_services.MAX_VARIANTS:
        _add(errors, "variants", f"A product has at most {catalog_services.MAX_VARIANTS} variants.")
        return []
    for index, row in enumerate(variants):
        _refuse_unknown(row, VARIANT_FIELDS, f"variants.{index}.", errors)
    return list(variants)


def _variant_input(row: dict, index: int, stored: Variant | None, errors: Errors) -> catalog_services.VariantInput:
    """A whole variant from the fields given, the stored variant's values filling in the others."""
    prefix = f"variants.{index}"
    price = _amount(row["price"], f"{prefix}.price", errors) if "price" in row else None
    if price is None:
        if stored is None and f"{prefix}.price" not in errors:
            _add(errors, f"{prefix}.price", "A new variant needs a price.")
        price = stored.price if stored is not None else Decimal(0)  # refused above when new
    if "compare_at_price" in row:
        compare_at_price = _amount(row["compare_at_price"], f"{prefix}.compare_at_price", errors)
    else:
        compare_at_price = stored.compare_at_price if stored is not None else None
    default_currency = stored.currency if stored is not None else DEFAULT_CURRENCY
    return catalog_services.VariantInput(
        sku=row.get("sku", ""),
        price=price,
        currency=row.get("currency") or default_currency,
        compare_at_price=compare_at_price,
        attributes=row.get("attributes", stored.attributes if stored is not None else {}),
        weight_grams=(
            _weight(row["weight_grams"])
            if "weight_grams" in row
            else (stored.weight_grams if stored is not None else 0)
        ),
    )


def _variant_sku(row: dict) -> str:
    sku = row.get("sku")
    return sku.strip() if isinstance(sku, str) else ""


@transaction.atomic
def seller_product_create(*, seller: Seller, data: dict, actor) -> Product:
    """Create a product with its variants and their initial stock (``stock``, 0 when left out).

    ``status`` defaults to active: visible and searchable at once (API.md). Raises ValidationError
    for bad input and SellerCannotPublish for a seller who may not (see catalog.services).
    """
    errors: Errors = {}
    _refuse_unknown(data, PRODUCT_FIELDS, "", errors)
    category = category_for_reference(data.get("category"), errors)
    rows = _variant_rows(data.get("variants"), errors)
    variants = [_variant_input(row, index, None, errors) for index, row in enumerate(rows)]
    stock_levels = [
        _count(row["stock"], f"variants.{index}.stock", errors) if row.get("stock") not in (None, "") else 0
        for index, row in enumerate(rows)
    ]
    if errors or category is None:  # an unknown category is among the errors
        raise ValidationError(errors)

    product = catalog_services.product_create(
        seller=seller,
        title=data.get("title", ""),
        category=category,
        description=data.get("description") or "",
        brand_name=data.get("brand") or "",
        attributes=data.get("attributes"),
        variants=variants,
        status=data.get("status") or Product.Status.ACTIVE,
    )
    by_sku = {variant.sku: variant for variant in product.variants.all()}
    # stock rows are locked in SKU order, as checkouts lock them (DESIGN.md): no deadlock between the two
    initial = sorted(zip((_variant_sku(row) for row in rows), stock_levels, strict=True))
    for sku, on_hand in initial:
        inventory_services.stock_set(
            variant=by_sku[sku], on_hand=on_hand or 0, actor=actor, reason=INITIAL_STOCK_REASON
        )
    return product


@transaction.atomic
def seller_product_update(*, seller: Seller, product: Product, data: dict, actor) -> Product:
    """Change the fields given in ``data``; the others stay (a PATCH).

    ``variants`` name variants by SKU: a stored SKU changes the fields given for it (``stock`` sets
    its units on hand), a new SKU adds a variant (with a price; stock 0 when left out). Raises
    PermissionDenied when the product is not this seller's: callers look it up among the seller's
    own products first, so that another seller's product is simply not found.
    """
    if product.seller_id != seller.pk:
        raise PermissionDenied("This product belongs to another seller.")
    errors: Errors = {}
    _refuse_unknown(data, PRODUCT_FIELDS, "", errors)
    changes: dict[str, Any] = {}
    if "category" in data:
        changes["category"] = category_for_reference(data["category"], errors)
    for name, argument in (("title", "title"), ("description", "description"), ("attributes", "attributes")):
        if name in data:
            changes[argument] = data[name]
    if "brand" in data:
        changes["brand_name"] = data["brand"] or ""
    if "status" in data:
        changes["status"] = data["status"]

    rows = _variant_rows(data.get("variants"), errors)
    stored = {variant.sku: variant for variant in product.variants.all()}
    # Only rows with catalog fields go to the catalog: a row of just {sku, stock} changes stock only.
    variants: list[catalog_services.VariantInput] = []
    request_indexes: list[int] = []
    stock_levels: list[tuple[str, int]] = []
    for index, row in enumerate(rows):
        sku = _variant_sku(row)
        if not sku:
            _add(errors, f"variants.{index}.sku", "Name the variant by its SKU.")
            continue
        if set(row) - {"sku", "stock"} or sku not in stored:
            variants.append(_variant_input(row, index, stored.get(sku), errors))
            request_indexes.append(index)
        stock = row.get("stock")
        if stock not in (None, "") or sku not in stored:
            on_hand = _count(0 if stock in (None, "") else stock, f"variants.{index}.stock", errors)
            if on_hand is not None:
                stock_levels.append((sku, on_hand))
    if errors:
        raise ValidationError(errors)

    try:
        product = catalog_services.product_update(product=product, variants=variants, **changes)
    except ValidationError as exc:
        raise _with_request_indexes(exc, request_indexes) from None
    by_sku = {variant.sku: variant for variant in product.variants.all()}
    for sku, on_hand in sorted(stock_levels):  # in SKU order, as checkouts lock stock rows (DESIGN.md)
        inventory_services.stock_set(variant=by_sku[sku], on_hand=on_hand, actor=actor, reason=STOCK_SET_REASON)
    return product
