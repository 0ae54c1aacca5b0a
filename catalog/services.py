"""Commands that change the catalog: categories, brands, products with their variants, and images.

Bad input raises ``django.core.exceptions.ValidationError`` with a dict of field -> messages, keyed
the way the seller API names its fields: ``title``, ``brand``, ``attributes.colour``,
``variants.0.sku``. A change that the seller's status does not allow raises ``SellerCannotPublish``:

- an approved seller creates and changes products in any status;
- a pending seller (waiting for review) may prepare drafts: create products and edit them, as long
  as they stay drafts (or are archived); publishing waits for approval;
- a rejected or suspended seller changes nothing, except archiving: taking a product down is never
  refused. (Its active products are already hidden from buyers: listings require an approved seller.)

The status is read from the ``Seller`` passed in (``product.seller`` for updates), which callers load
per request.

Every change publishes ``catalog.product_created`` / ``catalog.product_updated`` /
``catalog.product_archived`` (``catalog.events``) in the caller's transaction.
"""

from __future__ import annotations

import enum
import logging
import math
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from catalog import events, images
from catalog.models import Brand, Category, Product, ProductImage, Variant
from sellers.models import Seller
from shop.core.events import publish
from shop.core.money import DEFAULT_CURRENCY

logger = logging.getLogger(__name__)

TITLE_MAX_LENGTH = 200  # the column; titles longer than a line are keyword stuffing anyway
DESCRIPTION_MAX_LENGTH = 20_000  # a long product page; anything longer was pasted by mistake
MAX_VARIANTS = 100  # sizes x colours of one product; more is a catalogue modelling mistake
SKU_MAX_LENGTH = 64  # the column
# SKUs appear in URLs (/api/v1/seller/stock/<sku>/) and CSV files: no spaces, slashes or quotes.
SKU_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_PRICE = Decimal("9999999999.99")  # DecimalField(max_digits=12, decimal_places=2)
CENT = Decimal("0.01")
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")
MAX_WEIGHT_GRAMS = 1_000_000  # one tonne: beyond parcel shipping
BRAND_MAX_LENGTH = 100  # the column
ALT_TEXT_MAX_LENGTH = 200  # the column
MAX_ATTRIBUTES = 50  # per product or variant; a schema with more is not one a seller fills in
ATTRIBUTE_NAME_MAX_LENGTH = 50
ATTRIBUTE_TEXT_MAX_LENGTH = 500
ATTRIBUTE_TYPES = ("text", "number", "boolean", "choice")
_TRUE_WORDS = {"true", "yes", "y", "1"}  # CSV imports spell booleans every way
_FALSE_WORDS = {"false", "no", "n", "0"}
SLUG_ATTEMPTS = 5
# An image still pending after this long lost its task (broker down, worker killed): enqueue it again.
IMAGE_PROCESSING_GRACE = timedelta(minutes=10)
# ... but only for this long, so an image whose processing always crashes is not retried forever.
IMAGE_PROCESSING_GIVE_UP = timedelta(days=1)


class SellerCannotPublish(PermissionDenied):
    """The seller's status does not allow this change (see the module docstring)."""


class _Unset(enum.Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET  # "not given" for product_update, where None and "" are values


@dataclass(frozen=True)
class VariantInput:
    """One variant as a seller describes it: all of its fields, since a variant is written whole
    (a partial change merges with the stored variant first; backoffice.services does)."""

    sku: str
    price: Decimal
    currency: str = DEFAULT_CURRENCY
    compare_at_price: Decimal | None = None
    attributes: dict = field(default_factory=dict)
    weight_grams: int = 0


Errors = dict[str, list[str]]


def _add(errors: Errors, key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


# --- categories and brands ------------------------------------------------------------------------


@transaction.atomic
def category_get_or_create(
    *,
    name: str,
    parent: Category | None = None,
    slug: str = "",
    position: int = 0,
    attribute_schema: list | None = None,
) -> tuple[Category, bool]:
    """The child of ``parent`` with this slug, created if missing (idempotent, for seeding and imports)."""
    slug = slug or slugify(name)
    return Category.objects.get_or_create(
        parent=parent,
        slug=slug,
        defaults={"name": name, "position": position, "attribute_schema": attribute_schema or []},
    )


def _clean_brand_name(name: Any, errors: Errors) -> str:
    if name is None:
        return ""
    if not isinstance(name, str):
        _add(errors, "brand", "A brand is a name.")
        return ""
    name = " ".join(name.split())
    if len(name) > BRAND_MAX_LENGTH:
        _add(errors, "brand", f"A brand name has at most {BRAND_MAX_LENGTH} characters.")
    return name


def _brand_by_name(name: str) -> Brand | None:
    # lower(name) is what the unique index holds, so this lookup uses it
    return Brand.objects.alias(lower_name=Lower("name")).filter(lower_name=name.lower()).first()


def _free_brand_slug(name: str) -> str:
    base = slugify(name)[:100].strip("-") or "brand"
    slug = base
    while Brand.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def brand_get_or_create(*, name: str) -> Brand:
    """The brand with this name in any letter case ("acme" finds "ACME"), created if new."""
    errors: Errors = {}
    name = _clean_brand_name(name, errors)
    if not name:
        _add(errors, "brand", "A brand needs a name.")
    if errors:
        raise ValidationError(errors)
    brand = _brand_by_name(name)
    if brand is not None:
        return brand
    try:
        with transaction.atomic():
            return Brand.objects.create(name=name, slug=_free_brand_slug(name))
    except IntegrityError:
        # a concurrent request created the same brand (the index on lower(name)) or took the slug
        brand = _brand_by_name(name)
        if brand is None:
            raise
        return brand


# --- validation -----------------------------------------------------------------------------------


def _check_seller_may_write(*, seller: Seller, status: str, archive_only: bool = False) -> None:
    if seller.status == Seller.Status.APPROVED or archive_only:
        return
    if seller.status == Seller.Status.PENDING:
        if status == Product.Status.ACTIVE:
            raise SellerCannotPublish(
                "Your store is waiting for review. You can prepare drafts now and publish them once it is approved."
            )
        return
    raise SellerCannotPublish(
        f"Your store is {seller.get_status_display().lower()}, so its products cannot be created or changed."
    )


def _clean_title(title: Any, errors: Errors) -> str:
    if not isinstance(title, str) or not title.strip():
        _add(errors, "title", "A product needs a title.")
        return ""
    title = title.strip()
    if len(title) > TITLE_MAX_LENGTH:
        _add(errors, "title", f"A title has at most {TITLE_MAX_LENGTH} characters (this one has {len(title)}).")
    return title


def _clean_description(description: Any, errors: Errors) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        _add(errors, "description", "A description is text.")
        return ""
    description = description.strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        _add(errors, "description", f"A description has at most {DESCRIPTION_MAX_LENGTH:,} characters.")
    return description


def _clean_status(status: Any, errors: Errors) -> str:
    if status not in Product.Status.values:
        _add(errors, "status", f"Choose one of: {', '.join(Product.Status.values)}.")
    return status


def _clean_amount(value: Any, key: str, errors: Errors) -> Decimal | None:
    """A positive amount with at most two decimals, from a Decimal, an int or a string."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        _add(errors, key, 'Enter an amount as a decimal, such as "19.99".')
        return None
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        _add(errors, key, 'Enter an amount as a decimal, such as "19.99".')
        return None
    if not amount.is_finite():
        _add(errors, key, 'Enter an amount as a decimal, such as "19.99".')
        return None
    if amount <= 0:
        _add(errors, key, "The amount must be more than 0.")
        return None
    if amount > MAX_PRICE:
        _add(errors, key, f"The amount can be at most {MAX_PRICE}.")
        return None
    if amount != amount.quantize(CENT):
        _add(errors, key, "The amount can have at most 2 decimal places.")
        return None
    return amount.quantize(CENT)


def _clean_sku(sku: Any, key: str, errors: Errors) -> str:
    if not isinstance(sku, str) or not sku.strip():
        _add(errors, key, "A variant needs a SKU.")
        return ""
    sku = sku.strip()
    if len(sku) > SKU_MAX_LENGTH:
        _add(errors, key, f"A SKU has at most {SKU_MAX_LENGTH} characters.")
    elif not SKU_PATTERN.fullmatch(sku):
        _add(errors, key, "A SKU is letters, digits, '.', '_' and '-', starting with a letter or digit.")
    return sku


def _clean_currency(currency: Any, key: str, errors: Errors) -> str:
    currency = currency.strip().upper() if isinstance(currency, str) else ""
    if not CURRENCY_PATTERN.fullmatch(currency):
        _add(errors, key, "A currency is a three-letter code, such as EUR.")
    return currency


def _is_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)  # JSON has no NaN or infinity
    return isinstance(value, str | int | bool)


def _clean_variant_attributes(attributes: Any, key: str, errors: Errors) -> dict:
    """Variant attributes are the choices a buyer makes (size, colour): free names, scalar values."""
    if attributes is None:
        return {}
    if not isinstance(attributes, dict):
        _add(errors, key, 'Attributes are an object of names and values, such as {"size": "M"}.')
        return {}
    if len(attributes) > MAX_ATTRIBUTES:
        _add(errors, key, f"A variant has at most {MAX_ATTRIBUTES} attributes.")
        return {}
    cleaned = {}
    for name, value in attributes.items():
        name = str(name).strip()
        if not name or len(name) > ATTRIBUTE_NAME_MAX_LENGTH:
            _add(errors, key, f"An attribute name has 1 to {ATTRIBUTE_NAME_MAX_LENGTH} characters.")
        elif not _is_scalar(value):
            _add(errors, key, f"The value of “{name}” must be text, a number or true/false.")
        elif isinstance(value, str) and len(value.strip()) > ATTRIBUTE_TEXT_MAX_LENGTH:
            _add(errors, key, f"The value of “{name}” has at most {ATTRIBUTE_TEXT_MAX_LENGTH} characters.")
        else:
            cleaned[name] = value.strip() if isinstance(value, str) else value
    return cleaned


def _clean_weight(weight: Any, key: str, errors: Errors) -> int:
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= MAX_WEIGHT_GRAMS:
        _add(errors, key, f"A weight is a whole number of grams from 0 to {MAX_WEIGHT_GRAMS:,}.")
        return 0
    return weight


def _clean_variants(variants: Sequence[VariantInput], errors: Errors) -> list[VariantInput]:
    """Each variant's fields normalized (SKU trimmed, amounts quantized, currency upper-cased);
    errors keyed ``variants.<index>.<field>``, the index being the one in ``variants``."""
    if len(variants) > MAX_VARIANTS:
        _add(errors, "variants", f"A product has at most {MAX_VARIANTS} variants.")
        return []
    cleaned = []
    seen: set[str] = set()
    for index, variant in enumerate(variants):
        prefix = f"variants.{index}"
        sku = _clean_sku(variant.sku, f"{prefix}.sku", errors)
        if sku and sku in seen:
            _add(errors, f"{prefix}.sku", f"The SKU {sku} appears twice in this product.")
        seen.add(sku)
        price = _clean_amount(variant.price, f"{prefix}.price", errors)
        compare_at_price = None
        if variant.compare_at_price not in (None, ""):
            compare_at_price = _clean_amount(variant.compare_at_price, f"{prefix}.compare_at_price", errors)
            if price is not None and compare_at_price is not None and compare_at_price <= price:
                _add(errors, f"{prefix}.compare_at_price", "The compare-at price must be higher than the price.")
        cleaned.append(
            VariantInput(
                sku=sku,
                price=price or Decimal(0),
                currency=_clean_currency(variant.currency, f"{prefix}.currency", errors),
                compare_at_price=compare_at_price,
                attributes=_clean_variant_attributes(variant.attributes, f"{prefix}.attributes", errors),
                weight_grams=_clean_weight(variant.weight_grams, f"{prefix}.weight_grams", errors),
            )
        )
    return cleaned


def _check_skus_free(variants: Sequence[VariantInput], *, product: Product | None, errors: Errors) -> None:
    """SKUs are unique across the whole marketplace; one of another product is refused (without
    saying whose)."""
    index_of = {variant.sku: index for index, variant in enumerate(variants) if variant.sku}
    taken = Variant.objects.filter(sku__in=list(index_of))
    if product is not None:
        taken = taken.exclude(product=product)
    for sku in taken.values_list("sku", flat=True):
        _add(errors, f"variants.{index_of[sku]}.sku", f"The SKU {sku} is already used by another product.")


def _check_one_currency(variants: Sequence[VariantInput], *, others: Sequence[str], errors: Errors) -> None:
    """All variants of a product share one currency: its price is the lowest of theirs. ``others``
    are the currencies of stored variants that this change leaves alone."""
    expected = others[0] if others else (variants[0].currency if variants else "")
    for index, variant in enumerate(variants):
        if variant.currency and variant.currency != expected:
            _add(errors, f"variants.{index}.currency", f"All variants of a product have one currency ({expected}).")


def _attribute_schema(category: Category) -> dict[str, dict]:
    """The category's schema by attribute name; malformed entries (edited by hand) are skipped."""
    schema = {}
    for entry in category.attribute_schema or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"]:
            schema[entry["name"]] = entry
    return schema


def _coerce_attribute(value: Any, spec: dict) -> Any:
    """The value in the attribute's type, accepting the spellings a CSV import produces ("6.1",
    "yes", "navy" for "Navy"). Raises ValueError with a message for the seller."""
    kind = spec.get("type", "text")
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise ValueError("Enter a number, such as 6.1.")
        try:
            number = Decimal(value.strip() if isinstance(value, str) else str(value))
        except InvalidOperation:
            raise ValueError("Enter a number, such as 6.1.") from None
        if not number.is_finite():
            raise ValueError("Enter a number, such as 6.1.")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower() if isinstance(value, str | int) else ""
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise ValueError("Enter true or false.")
    if kind == "choice":
        choices = [str(choice) for choice in spec.get("choices") or []]
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value).strip().casefold()
            for choice in choices:
                if choice.casefold() == text:
                    return choice
        raise ValueError(f"Choose one of: {', '.join(choices)}.")
    if not isinstance(value, str):
        raise ValueError("Enter text.")
    if len(value.strip()) > ATTRIBUTE_TEXT_MAX_LENGTH:
        raise ValueError(f"At most {ATTRIBUTE_TEXT_MAX_LENGTH} characters.")
    return value.strip()


def _clean_attributes(attributes: Any, *, category: Category, errors: Errors) -> dict:
    """The product's attributes checked against the category's schema: no unknown names, every
    required one present, each of its type (and one of its choices). Empty values are left out."""
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        _add(errors, "attributes", 'Attributes are an object of names and values, such as {"colour": "Navy"}.')
        return {}
    if len(attributes) > MAX_ATTRIBUTES:
        _add(errors, "attributes", f"A product has at most {MAX_ATTRIBUTES} attributes.")
        return {}
    schema = _attribute_schema(category)
    cleaned = {}
    for raw_name, value in attributes.items():
        name = str(raw_name)
        key = f"attributes.{name[:ATTRIBUTE_NAME_MAX_LENGTH]}"
        spec = schema.get(name)
        if spec is None:
            known = ", ".join(schema) or "none"
            _add(errors, key, f"“{category.name}” products have no attribute “{name[:50]}”. Their attributes: {known}.")
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # an empty cell of a CSV import: absent (the required check below reports it)
        try:
            cleaned[name] = _coerce_attribute(value, spec)
        except ValueError as exc:
            _add(errors, key, str(exc))
    for name, spec in schema.items():
        if spec.get("required") and name not in cleaned and f"attributes.{name}" not in errors:
            _add(errors, f"attributes.{name}", f"Required for “{category.name}” products.")
    return cleaned


def product_write_check(*, seller: Seller, status: str, archive_only: bool = False) -> None:
    """Raise SellerCannotPublish unless the seller's status allows a product in ``status`` (see the
    module docstring); ``archive_only`` for a change that does nothing but archive. For forms that
    validate before calling product_create or product_update, which check it again."""
    _check_seller_may_write(seller=seller, status=status, archive_only=archive_only)


def product_attributes_clean(*, category: Category, attributes: Any) -> dict:
    """The attributes checked against the category's schema and normalized, as product_create stores
    them; ValidationError keyed ``attributes.<name>`` otherwise. For forms."""
    errors: Errors = {}
    cleaned = _clean_attributes(attributes, category=category, errors=errors)
    if errors:
        raise ValidationError(errors)
    return cleaned


def product_variants_clean(*, variants: Sequence[VariantInput]) -> list[VariantInput]:
    """The variants normalized as product_create stores them; ValidationError keyed
    ``variants.<index>.<field>`` otherwise. Does not check that the SKUs are free. For forms."""
    errors: Errors = {}
    cleaned = _clean_variants(variants, errors)
    if errors:
        raise ValidationError(errors)
    return cleaned


# --- products -------------------------------------------------------------------------------------


def _slug_base(title: str) -> str:
    return slugify(title)[:200].strip("-") or "product"


def _free_slug(base: str) -> str:
    """The title's slug, or with a short random suffix when taken: popular titles ("T-shirt") would
    make a counter scan many rows."""
    slug = base
    while Product.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def _insert_with_free_slug(product: Product) -> None:
    base = _slug_base(product.title)
    for attempt in range(SLUG_ATTEMPTS):
        product.slug = _free_slug(base)
        try:
            with transaction.atomic():
                product.save(force_insert=True)
            return
        except IntegrityError:
            # a concurrent create took the same slug between the check and the insert: try another
            if attempt == SLUG_ATTEMPTS - 1 or not Product.objects.filter(slug=product.slug).exists():
                raise


def _variant_fields(variant: VariantInput) -> dict[str, Any]:
    return {
        "price": variant.price,
        "compare_at_price": variant.compare_at_price,
        "currency": variant.currency,
        "attributes": variant.attributes,
        "weight_grams": variant.weight_grams,
    }


def _variants_insert(product: Product, variants: Sequence[VariantInput], *, first_position: int) -> None:
    try:
        with transaction.atomic():
            Variant.objects.bulk_create(
                [
                    Variant(product=product, sku=variant.sku, position=first_position + i, **_variant_fields(variant))
                    for i, variant in enumerate(variants)
                ]
            )
    except IntegrityError:
        # a concurrent request took one of the SKUs after _check_skus_free: report it like the check would
        errors: Errors = {}
        _check_skus_free(variants, product=product, errors=errors)
        if not errors:
            raise
        raise ValidationError(errors) from None


def _price_refresh(product: Product) -> None:
    """Keep the denormalized listing price: the lowest price of the product's active variants."""
    prices = list(product.variants.filter(is_active=True).values_list("price", "currency"))
    product.price = min((price for price, _ in prices), default=None)
    if prices:
        product.currency = prices[0][1]  # one currency for all (_check_one_currency)


def product_create(
    *,
    seller: Seller,
    title: str,
    category: Category,
    description: str = "",
    brand_name: str = "",
    attributes: dict | None = None,
    variants: Sequence[VariantInput],
    status: str = Product.Status.ACTIVE,
) -> Product:
    """Create a product with its variants (at least one) in one transaction.

    The brand is found by name in any letter case, or created. The slug comes from the title, with a
    short suffix when taken. Publishes ``catalog.product_created``. Stock is not the catalog's: the
    caller records it (backoffice.services.seller_product_create does).
    """
    _check_seller_may_write(seller=seller, status=status)
    errors: Errors = {}
    title = _clean_title(title, errors)
    description = _clean_description(description, errors)
    status = _clean_status(status, errors)
    brand_name = _clean_brand_name(brand_name, errors)
    cleaned_attributes = _clean_attributes(attributes, category=category, errors=errors)
    if not variants:
        _add(errors, "variants", "A product needs at least one variant.")
    cleaned_variants = _clean_variants(variants, errors)
    _check_one_currency(cleaned_variants, others=(), errors=errors)
    _check_skus_free(cleaned_variants, product=None, errors=errors)
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        product = Product(
            seller=seller,
            category=category,
            brand=brand_get_or_create(name=brand_name) if brand_name else None,
            title=title,
            description=description,
            status=status,
            attributes=cleaned_attributes,
            price=min(variant.price for variant in cleaned_variants),
            currency=cleaned_variants[0].currency,
        )
        _insert_with_free_slug(product)
        _variants_insert(product, cleaned_variants, first_position=0)
        publish(events.PRODUCT_CREATED, events.product_payload(product))
    logger.info("product %s created by seller %s", product.pk, seller.pk)
    return product


def product_update(
    *,
    product: Product,
    title: str | _Unset = UNSET,
    description: str | _Unset = UNSET,
    category: Category | _Unset = UNSET,
    brand_name: str | _Unset = UNSET,
    attributes: dict | _Unset | None = UNSET,
    status: str | _Unset = UNSET,
    variants: Sequence[VariantInput] | None = None,
) -> Product:
    """Change the fields given; the others stay. Returns the product as stored.

    ``variants`` are matched by SKU: a SKU of this product updates that variant (all of its fields),
    a new SKU adds a variant, a SKU of another product is refused. Variants not named stay as they
    are. ``brand_name=""`` removes the brand. A new category re-checks the attributes against its
    schema. The slug never changes: it is the product's URL.

    Publishes ``catalog.product_updated`` when anything changed, and ``catalog.product_archived``
    as well when the status became archived. Changing nothing publishes nothing.
    """
    with transaction.atomic():
        # the row lock serializes concurrent edits, so the denormalized price follows the last one
        locked = (
            Product.objects.select_for_update(of=("self",))
            .select_related("seller", "category", "brand")
            .get(pk=product.pk)
        )
        given = {
            name
            for name, value in (
                ("title", title),
                ("description", description),
                ("category", category),
                ("brand", brand_name),
                ("attributes", attributes),
                ("status", status),
            )
            if value is not UNSET
        }
        if variants:
            given.add("variants")
        final_status = locked.status if isinstance(status, _Unset) else status
        _check_seller_may_write(
            seller=locked.seller,
            status=final_status,
            archive_only=given <= {"status"} and final_status == Product.Status.ARCHIVED,
        )

        errors: Errors = {}
        changes: dict[str, Any] = {}
        if not isinstance(title, _Unset):
            changes["title"] = _clean_title(title, errors)
        if not isinstance(description, _Unset):
            changes["description"] = _clean_description(description, errors)
        if not isinstance(status, _Unset):
            changes["status"] = _clean_status(status, errors)
        if not isinstance(category, _Unset):
            changes["category"] = category
        final_category = locked.category if isinstance(category, _Unset) else category
        if not isinstance(attributes, _Unset) or final_category.pk != locked.category_id:
            source = locked.attributes if isinstance(attributes, _Unset) else attributes
            changes["attributes"] = _clean_attributes(source, category=final_category, errors=errors)
        new_brand_name = None
        if not isinstance(brand_name, _Unset):
            new_brand_name = _clean_brand_name(brand_name, errors)

        stored = {variant.sku: variant for variant in locked.variants.all()}
        cleaned_variants = _clean_variants(variants or (), errors)
        if cleaned_variants:
            named = {variant.sku for variant in cleaned_variants}
            others = [variant.currency for sku, variant in stored.items() if sku not in named]
            _check_one_currency(cleaned_variants, others=others, errors=errors)
            _check_skus_free(cleaned_variants, product=locked, errors=errors)
            added = [variant for variant in cleaned_variants if variant.sku not in stored]
            if len(stored) + len(added) > MAX_VARIANTS:
                _add(errors, "variants", f"A product has at most {MAX_VARIANTS} variants.")
        if errors:
            raise ValidationError(errors)

        if new_brand_name is not None:
            current = locked.brand.name.lower() if locked.brand else ""
            if new_brand_name.lower() != current:
                changes["brand"] = brand_get_or_create(name=new_brand_name) if new_brand_name else None
        changed_fields = [name for name, value in changes.items() if getattr(locked, name) != value]
        was_archived = locked.status == Product.Status.ARCHIVED
        previous_category_id = locked.category_id
        for name in changed_fields:
            setattr(locked, name, changes[name])

        variants_changed = _variants_apply(locked, cleaned_variants, stored)
        if variants_changed:
            _price_refresh(locked)
            changed_fields += ["price", "currency"]
        if not changed_fields:
            return locked
        locked.save(update_fields=[*changed_fields, "updated_at"])
        payload = events.product_payload(locked)
        if locked.category_id != previous_category_id:  # the old category's listings change too
            payload["previous_category_id"] = previous_category_id
        publish(events.PRODUCT_UPDATED, payload)
        if locked.status == Product.Status.ARCHIVED and not was_archived:
            publish(events.PRODUCT_ARCHIVED, events.product_payload(locked))
    return locked


def _variants_apply(product: Product, variants: Sequence[VariantInput], stored: dict[str, Variant]) -> bool:
    """Update the stored variants named by SKU and add the new ones; True when anything changed."""
    changed = False
    added = []
    for variant in variants:
        current = stored.get(variant.sku)
        if current is None:
            added.append(variant)
            continue
        fields = {name: value for name, value in _variant_fields(variant).items() if getattr(current, name) != value}
        if fields:
            for name, value in fields.items():
                setattr(current, name, value)
            current.save(update_fields=list(fields))
            changed = True
    if added:
        first_position = max((variant.position for variant in stored.values()), default=-1) + 1
        _variants_insert(product, added, first_position=first_position)
        changed = True
    return changed


def product_archive(*, product: Product) -> Product:
    """Take a product down: buyers no longer see it. Allowed whatever the seller's status; archiving
    an archived product changes nothing."""
    return product_update(product=product, status=Product.Status.ARCHIVED)


# --- images ---------------------------------------------------------------------------------------


def image_renditions_make(*, original: bytes, prefix: str) -> dict:
    """Store the renditions of an image's bytes under ``prefix`` and return their names and sizes
    (catalog.images.make_renditions), for callers outside the catalog such as bulk seeding. Raises
    ``ValidationError`` when Pillow cannot read the bytes."""
    try:
        return images.make_renditions(original, prefix=prefix)
    except images.ImageProcessingError as exc:
        raise ValidationError({"image": [images.NOT_AN_IMAGE]}) from exc


def product_image_add(*, product: Product, upload, alt_text: str = "", position: int | None = None) -> ProductImage:
    """Store an uploaded image of a product; its renditions are made by a Celery task after commit.

    ``upload`` is a Django ``File`` (an ``UploadedFile`` from a form or request). Anything that is
    not a JPEG, PNG, WebP or GIF of 100 px to 40 megapixels and at most 10 MB is refused with
    ``ValidationError({"image": [message]})``. The original is stored under a random name, so its
    URL reveals nothing and cannot be guessed. ``position=None`` puts it after the others. Raises
    SellerCannotPublish for a rejected or suspended seller's product.
    """
    _check_seller_may_write(seller=product.seller, status=product.status)
    errors: Errors = {}
    try:
        image_format = images.validate_image_upload(upload)
    except ValidationError as exc:
        errors["image"] = exc.messages
        image_format = ""
    if not isinstance(alt_text, str) or len(alt_text.strip()) > ALT_TEXT_MAX_LENGTH:
        _add(errors, "alt_text", f"A description of the image has at most {ALT_TEXT_MAX_LENGTH} characters.")
    if position is not None and (isinstance(position, bool) or not isinstance(position, int) or position < 0):
        _add(errors, "position", "A position is a whole number from 0.")
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        if position is None:
            last = ProductImage.objects.filter(product=product).aggregate(last=Max("position"))["last"]
            position = 0 if last is None else last + 1
        image = ProductImage(product=product, alt_text=alt_text.strip(), position=position)
        # stored now, before the commit: a rolled-back transaction leaves an unreferenced file behind,
        # which is harmless, while a task that found no file would not be
        image.original.save(f"{uuid.uuid4().hex}.{images.EXTENSIONS[image_format]}", upload, save=False)
        image.save()
        transaction.on_commit(partial(_enqueue_image_processing, image.pk))
    return image


def _enqueue_image_processing(image_id: int) -> None:
    from catalog.tasks import product_image_process_task  # the task module imports this one

    try:
        product_image_process_task.delay(image_id)
    except Exception:  # broker down: the image stays pending and the periodic sweep enqueues it again
        logger.warning(
            "catalog: could not enqueue processing of image %s; the sweep will retry", image_id, exc_info=True
        )


def _image_failed(image_id: int, reason: str) -> ProductImage | None:
    with transaction.atomic():
        image = ProductImage.objects.select_for_update().filter(pk=image_id).first()
        if image is None or image.status == ProductImage.Status.READY:
            return image
        logger.error("catalog: image %s of product %s could not be processed: %s", image.pk, image.product_id, reason)
        if image.status != ProductImage.Status.FAILED:
            image.status = ProductImage.Status.FAILED
            image.save(update_fields=["status"])
    return image


def product_image_process(*, image_id: int) -> ProductImage | None:
    """Make the renditions of one image, mark it ready and make it the product's primary image if it
    comes first. Marks it failed (and logs why) when Pillow cannot read it.

    Idempotent: an image already ready is left alone, so a task delivered twice is harmless. Storage
    errors propagate (the image stays pending, and the periodic sweep retries it). The Pillow work
    runs outside any transaction; only the final write locks the image and the product.
    """
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None or image.status == ProductImage.Status.READY:
        return image  # deleted meanwhile, or done by an earlier run
    try:
        with image.original.open("rb") as original:
            original_bytes = original.read()
    except FileNotFoundError:
        return _image_failed(image_id, f"the original {image.original.name!r} is missing")
    try:
        renditions = images.make_renditions(original_bytes, prefix=f"products/r/{image.pk}")
    except images.ImageProcessingError as exc:
        return _image_failed(image_id, str(exc))

    with transaction.atomic():
        locked = ProductImage.objects.select_for_update().filter(pk=image_id).first()
        if locked is None or locked.status == ProductImage.Status.READY:
            return locked  # a concurrent run finished first
        locked.renditions = renditions
        locked.status = ProductImage.Status.READY
        locked.save(update_fields=["renditions", "status"])
        product = Product.objects.select_for_update().get(pk=locked.product_id)
        _primary_image_refresh(product)
        publish(events.PRODUCT_UPDATED, events.product_payload(product))
    return locked


def _primary_image_refresh(product: Product) -> None:
    """The listing thumbnail: the first ready image by position. Call holding the product's row lock."""
    first_ready = (
        ProductImage.objects.filter(product=product, status=ProductImage.Status.READY)
        .order_by("position", "id")
        .values_list("pk", flat=True)
        .first()
    )
    if product.primary_image_id != first_ready:
        product.primary_image_id = first_ready
        product.save(update_fields=["primary_image", "updated_at"])


def product_images_refresh(*, product: Product) -> Product:
    """After images were deleted or reordered (the admin): the listing thumbnail becomes the first
    ready image again, and ``catalog.product_updated`` tells the pages and search."""
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        _primary_image_refresh(locked)
        publish(events.PRODUCT_UPDATED, events.product_payload(locked))
    return locked


def product_image_process_pending(
    *, grace: timedelta = IMAGE_PROCESSING_GRACE, give_up_after: timedelta = IMAGE_PROCESSING_GIVE_UP
) -> int:
    """Enqueue again the images that have waited longer than ``grace`` (their task was lost: broker
    down, worker killed, storage error) but less than ``give_up_after``. Returns how many."""
    now = timezone.now()
    pending = list(
        ProductImage.objects.filter(
            status=ProductImage.Status.PENDING, created_at__lte=now - grace, created_at__gte=now - give_up_after
        ).values_list("pk", flat=True)
    )
    for image_id in pending:
        _enqueue_image_processing(image_id)
    return len(pending)
