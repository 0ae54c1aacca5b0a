"""Read queries of the catalog.

What buyers may see is ``listed_products()``: active products of approved sellers. Listings use
keyset ("seek") pagination on the partial indexes of ``catalog.models.Product``: a page starts where
the previous one ended (``after``/``before`` a ``ListingKey``), so the thousandth page costs what the
first does. ``offset`` is only for a link to a page by its number (see ``products_in_category``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db import connections
from django.db.models import Prefetch, Q, QuerySet

from catalog.images import rendition_url
from catalog.models import PATH_SEPARATOR, Category, Product, ProductImage, Variant
from sellers.models import Seller


class ProductSort(StrEnum):
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"

    @property
    def field(self) -> str:
        return "created_at" if self is ProductSort.NEWEST else "price"

    @property
    def descending(self) -> bool:
        return self is not ProductSort.PRICE_ASC

    def parse_value(self, raw: str) -> datetime | Decimal:
        """A sort value from its text (``str()`` of the value); ValueError or ArithmeticError otherwise."""
        if self is ProductSort.NEWEST:
            value = datetime.fromisoformat(raw)
            if value.tzinfo is None:
                raise ValueError("a listing time carries its UTC offset")
            return value
        price = Decimal(raw)
        if not price.is_finite():
            raise ValueError("a price is a finite number")
        return price


# (sort value, product id): where a listing page starts or ends. The id breaks ties between equal values.
ListingKey = tuple[Any, int]

# A category listing merges one ordered index scan per category of the subtree (see _listing_keys).
# Beyond this many categories the SQL and its planning grow more than the merge saves; the listing
# then falls back to one "category_id IN (...)" scan that PostgreSQL sorts.
MAX_MERGED_CATEGORIES = 150


@dataclass(frozen=True)
class ProductSlice:
    """One page of a listing in display order, and whether the listing goes on either side of it."""

    products: list[Product]
    has_previous: bool
    has_next: bool


def listing_key(product: Product, sort: ProductSort) -> ListingKey:
    return (getattr(product, sort.field), product.pk)


# --- products ---------------------------------------------------------------------------------


def listed_products() -> QuerySet[Product]:
    """Products buyers see: active, of an approved seller. Suspending a seller hides its products at once.

    The seller condition reads "not one of the sellers that are not approved": PostgreSQL hashes that
    small subquery once per query and checks ``seller_id`` row by row inside the index scan, where a
    join would cost a lookup for every row a deep page skips.
    """
    not_approved = Seller.objects.exclude(status=Seller.Status.APPROVED).values("id")
    return Product.objects.filter(status=Product.Status.ACTIVE).exclude(seller_id__in=not_approved)


def _grid_products() -> QuerySet[Product]:
    # A product without an active variant has no price and nothing to buy: listings leave it out
    # (its own page still answers), and the price sorts could not place it.
    return listed_products().filter(price__isnull=False)


def product_detail(*, slug: str) -> Product | None:
    """A listed product with its seller, brand, category, active variants and ready images.

    Three queries whatever the number of variants or images: the product joined to its seller,
    brand and category, then one query for the variants and one for the images.
    """
    variants = Variant.objects.filter(is_active=True).order_by("position", "id")
    # Without the original's file field: pages show renditions, and loading an ImageField whose
    # width and height are unset makes Django open the file to measure it.
    images = (
        ProductImage.objects.filter(status=ProductImage.Status.READY)
        .only("id", "product_id", "alt_text", "position", "status", "renditions")
        .order_by("position", "id")
    )
    return (
        listed_products()
        .select_related("seller", "brand", "category")
        .prefetch_related(Prefetch("variants", queryset=variants), Prefetch("images", queryset=images))
        .filter(slug=slug)
        .first()
    )


def _for_cards(products: QuerySet[Product]) -> QuerySet[Product]:
    """What a product card shows: names of the product, brand and seller, the primary image, and
    the active variants cheapest first (the card's price and struck-through compare-at price)."""
    variants = Variant.objects.filter(is_active=True).only("id", "product_id", "price", "compare_at_price", "currency")
    return (
        products.select_related("seller", "brand", "primary_image")
        .only(
            "id",
            "slug",
            "title",
            "price",
            "currency",
            "created_at",
            "seller__store_name",
            "seller__slug",
            "brand__name",
            "primary_image__renditions",
            "primary_image__alt_text",
            "primary_image__status",
        )
        .prefetch_related(Prefetch("variants", queryset=variants.order_by("price", "id")))
    )


def products_for_cards(ids: Sequence[int]) -> list[Product]:
    """Products for cards, in the order of ``ids``. Two queries: products with relations, variants."""
    if not ids:
        return []
    by_id = {product.pk: product for product in _for_cards(Product.objects.filter(pk__in=ids))}
    return [by_id[pk] for pk in ids if pk in by_id]


def image_renditions(image: ProductImage | None, names: Collection[str] | None = None) -> dict[str, dict]:
    """The renditions of a ready image by name ("thumbnail", "medium", "large"), each with the URLs
    of its WebP and JPEG files, its width and height; {} for no image or one still processing.
    ``names``: only these renditions (a grid of cards asks for two of three URLs' worth)."""
    if image is None or image.status != ProductImage.Status.READY or not image.renditions:
        return {}
    return {
        name: {
            "webp": rendition_url(image.renditions, name, "webp"),
            "jpeg": rendition_url(image.renditions, name, "jpeg"),
            "width": entry["width"],
            "height": entry["height"],
        }
        for name, entry in image.renditions.items()
        if (names is None or name in names) and isinstance(entry, dict) and entry.keys() >= _RENDITION_KEYS
    }


def rendition_file_url(renditions: Any, name: str, image_format: str) -> str | None:
    """The URL of one file (``image_format``: "webp" or "jpeg") of one rendition of a ready image's
    ``renditions``, as ``image_renditions`` gives it, without the rest; None when there is none."""
    entry = renditions.get(name) if isinstance(renditions, dict) else None
    if not isinstance(entry, dict) or not entry.keys() >= _RENDITION_KEYS:
        return None
    return rendition_url(renditions, name, image_format)


_RENDITION_KEYS = frozenset({"webp", "jpeg", "width", "height"})


def new_arrivals(*, limit: int) -> list[Product]:
    """The latest listed products, for cards: a walk down the partial index of listed products by date."""
    return list(_for_cards(_grid_products()).order_by("-created_at", "-id")[:limit])


def _seek(products: QuerySet[Product], sort: ProductSort, key: ListingKey, *, forward: bool) -> QuerySet[Product]:
    """The products strictly after ``key`` in the listing's order (forward), or strictly before it.

    ``(value, id) < (v, i)`` is written ``value <= v AND (value < v OR id < i)``: the first half is an
    index condition (the scan starts at the key), the second only drops the ties of equal values.
    """
    value, pk = key
    field = sort.field
    if sort.descending == forward:  # towards smaller values
        bound, strict, tie = f"{field}__lte", f"{field}__lt", Q(pk__lt=pk)
    else:
        bound, strict, tie = f"{field}__gte", f"{field}__gt", Q(pk__gt=pk)
    return products.filter(**{bound: value}).filter(Q(**{strict: value}) | (Q(**{field: value}) & tie))


def _ordering(sort: ProductSort, *, forward: bool) -> list[str]:
    prefix = "-" if sort.descending == forward else ""
    return [f"{prefix}{sort.field}", f"{prefix}id"]


def _listing_keys(
    products: QuerySet[Product],
    *,
    category_ids: Sequence[int] | None = None,
    sort: ProductSort,
    after: ListingKey | None,
    before: ListingKey | None,
    offset: int,
    limit: int,
) -> list[ListingKey]:
    """Up to ``limit`` keys of a listing in display order, in one query.

    With several categories (a subtree) each gets its own ordered, limited scan of the partial
    index (category, sort value, id), and PostgreSQL merges them (Merge Append), reading only as far
    as the page needs. A single "category_id IN (...)" scan cannot walk that index in order: it
    sorts the whole subtree, or walks the index of all listed products by date and throws most of
    it away. Measured on 1,000,000 products (PostgreSQL 15, page 500 of an 80,000-product subtree of
    21 categories): 13 to 20 ms merged, 100 to 210 ms as one scan; page 1 or any cursor page 0.5 ms.

    The per-scan LIMIT also keeps PostgreSQL on the ordered index scans: without it each scan is
    planned as "read the category and sort it" (120 to 250 ms for page 500).
    """
    forward = before is None
    if after is not None:
        products = _seek(products, sort, after, forward=True)
    if before is not None:
        products = _seek(products, sort, before, forward=False)
    ordering = _ordering(sort, forward=forward)
    if category_ids is not None and len(category_ids) == 1:
        products, category_ids = products.filter(category_id=category_ids[0]), None
    if category_ids is None or len(category_ids) > MAX_MERGED_CATEGORIES:
        if category_ids is not None:
            products = products.filter(category_id__in=category_ids)
        keys = list(products.order_by(*ordering).values_list(sort.field, "id")[offset : offset + limit])
    else:
        # Each scan stops after offset + limit rows: no category can contribute more to the page.
        keys = _per_category_union(
            products.order_by(*ordering).values_list(sort.field, "id"),
            category_ids,
            scan_limit=offset + limit,
            outer=_MERGED_KEYS_DESC if ordering[0].startswith("-") else _MERGED_KEYS_ASC,
            outer_params=[limit, offset],
        )
    if not forward:
        keys.reverse()
    return keys


# Stands for the category id while one scan's SQL is compiled; no primary key is negative.
_CATEGORY_PLACEHOLDER = -1
# The statements around the per-category scans ({union}); the merge's order is the scans' order.
_MERGED_KEYS_ASC = "SELECT * FROM ({union}) AS merged ORDER BY 1 ASC, 2 ASC LIMIT %s OFFSET %s"
_MERGED_KEYS_DESC = "SELECT * FROM ({union}) AS merged ORDER BY 1 DESC, 2 DESC LIMIT %s OFFSET %s"
_CAPPED_COUNT = "SELECT count(*) FROM (SELECT 1 FROM ({union}) AS counted LIMIT %s) AS capped"


def _per_category_union(
    scan: QuerySet, category_ids: Sequence[int], *, scan_limit: int, outer: str, outer_params: list
) -> list[tuple]:
    """Run ``outer`` over the UNION ALL of ``scan`` limited to each category (and ``scan_limit`` rows) in turn.

    The scan's SQL is compiled once by the ORM (so "listed" keeps its one definition above) and
    repeated per category with that category's id: compiling twenty-odd querysets would cost more
    Python time than the query takes in PostgreSQL.
    """
    sql, params = scan.filter(category_id=_CATEGORY_PLACEHOLDER)[:scan_limit].query.sql_with_params()
    slots = [i for i, param in enumerate(params) if isinstance(param, int) and param == _CATEGORY_PLACEHOLDER]
    if len(slots) != 1:  # pragma: no cover - a change to listed_products() that this trick cannot follow
        raise RuntimeError("the category id's place in the compiled scan is ambiguous")
    slot = slots[0]
    union_params: list = []
    for category_id in category_ids:
        union_params += [*params[:slot], category_id, *params[slot + 1 :]]
    union = " UNION ALL ".join([f"({sql})"] * len(category_ids))
    with connections[scan.db].cursor() as cursor:
        cursor.execute(outer.format(union=union), [*union_params, *outer_params])
        return [tuple(row) for row in cursor.fetchall()]


def _slice(
    products: QuerySet[Product],
    *,
    category_ids: Sequence[int] | None = None,
    sort: ProductSort,
    after: ListingKey | None,
    before: ListingKey | None,
    offset: int,
    limit: int,
) -> ProductSlice:
    if after is not None and before is not None:
        raise ValueError("a page starts after one key or ends before one, not both")
    if (after is not None or before is not None) and offset:
        raise ValueError("an offset counts from the start of the listing, not from a key")
    keys = _listing_keys(
        products, category_ids=category_ids, sort=sort, after=after, before=before, offset=offset, limit=limit + 1
    )
    more = len(keys) > limit  # the one extra key says whether the listing goes on
    if before is None:
        keys = keys[:limit]
        has_previous, has_next = after is not None or offset > 0, more
    else:
        keys = keys[-limit:]
        has_previous, has_next = more, True
    return ProductSlice(products_for_cards([pk for _, pk in keys]), has_previous=has_previous, has_next=has_next)


def products_in_category(
    category: Category,
    *,
    sort: ProductSort = ProductSort.NEWEST,
    after: ListingKey | None = None,
    before: ListingKey | None = None,
    offset: int = 0,
    limit: int = 24,
) -> ProductSlice:
    """A page of the listed products of a category and all its descendants, for cards.

    Pass ``after`` (the last key of the page before) or ``before`` (the first key of the page after)
    to seek: an index range scan whatever the depth. ``offset`` serves links to a page by number and
    still walks the index entries it skips (13 to 20 ms for page 500 of an 80,000-product subtree),
    so callers cap it. Four queries: descendants, keys, products, variants.
    """
    return products_in_categories(
        category_descendant_ids(category), sort=sort, after=after, before=before, offset=offset, limit=limit
    )


def products_in_categories(
    category_ids: Sequence[int],
    *,
    sort: ProductSort = ProductSort.NEWEST,
    after: ListingKey | None = None,
    before: ListingKey | None = None,
    offset: int = 0,
    limit: int = 24,
) -> ProductSlice:
    """``products_in_category`` for a caller that has the subtree's ids (``category_descendant_ids``)
    cached. Three queries: keys, products, variants."""
    ids = list(category_ids)
    if not ids:
        return ProductSlice([], has_previous=False, has_next=False)
    return _slice(_grid_products(), category_ids=ids, sort=sort, after=after, before=before, offset=offset, limit=limit)


def products_of_seller(
    seller: Seller,
    *,
    sort: ProductSort = ProductSort.NEWEST,
    after: ListingKey | None = None,
    before: ListingKey | None = None,
    offset: int = 0,
    limit: int = 24,
) -> ProductSlice:
    """A page of a seller's listed products, for cards; pagination as in ``products_in_category``."""
    products = _grid_products().filter(seller_id=seller.pk)
    return _slice(products, sort=sort, after=after, before=before, offset=offset, limit=limit)


def count_products_in_categories(category_ids: Sequence[int], *, cap: int) -> int:
    """How many listed products the categories hold, counting no further than ``cap``: an exact count
    of a 200,000-product subtree reads 200,000 index entries for a number nobody needs exactly.

    Counted per category and added up (one query), for the reason ``_listing_keys`` merges: a
    "category IN (...)" count walks the index of every listed product instead.
    """
    if not category_ids:
        return 0
    if len(category_ids) == 1 or len(category_ids) > MAX_MERGED_CATEGORIES:
        return _grid_products().filter(category_id__in=category_ids)[:cap].count()
    scan = _grid_products().order_by().values_list("id")
    return _per_category_union(scan, category_ids, scan_limit=cap, outer=_CAPPED_COUNT, outer_params=[cap])[0][0]


def count_products_of_seller(seller: Seller, *, cap: int) -> int:
    return _grid_products().filter(seller_id=seller.pk)[:cap].count()


# --- categories -------------------------------------------------------------------------------


def category_roots() -> QuerySet[Category]:
    return Category.objects.filter(parent__isnull=True).order_by("position", "name")


def category_tree() -> QuerySet[Category]:
    """Every category, parents before children (by path): the whole tree in one query, a few hundred rows."""
    return Category.objects.select_related("parent").order_by("path")


def category_by_path(path: str) -> Category | None:
    return Category.objects.filter(path=path.strip(PATH_SEPARATOR)).first()


def category_children(category: Category) -> QuerySet[Category]:
    return Category.objects.filter(parent=category).order_by("position", "name")


def category_descendants(category: Category, *, include_self: bool = True) -> QuerySet[Category]:
    descendants = Category.objects.filter(path__startswith=category.path + PATH_SEPARATOR)
    if include_self:
        descendants = descendants | Category.objects.filter(pk=category.pk)
    return descendants


def category_descendant_ids(category: Category) -> list[int]:
    """The ids of the category and every category below it: one prefix scan of the path index.

    A plain list of ints, so a caller can cache it beside the tree (it changes only with the tree).
    """
    below = Q(path__startswith=category.path + PATH_SEPARATOR)
    return list(Category.objects.filter(Q(pk=category.pk) | below).order_by("path").values_list("id", flat=True))


def category_breadcrumbs(category: Category) -> list[Category]:
    """The ancestors from the root, then the category itself, in one query."""
    by_path = {c.path: c for c in Category.objects.filter(path__in=category.ancestor_paths)}
    return [by_path[p] for p in category.ancestor_paths if p in by_path] + [category]


def category_lineage_ids(category_id: int) -> list[int]:
    """The id of a category and of each of its ancestors (whose listings include its products)."""
    category = Category.objects.filter(pk=category_id).only("path").first()
    if category is None:
        return []
    return list(
        Category.objects.filter(path__in=[*category.ancestor_paths, category.path]).values_list("id", flat=True)
    )


def category_lineage_paths(category_id: int) -> list[str]:
    """The paths of a category's ancestors from the root, then its own: one query, as a path holds
    its ancestors' paths."""
    category = Category.objects.filter(pk=category_id).only("path").first()
    return [] if category is None else [*category.ancestor_paths, category.path]
