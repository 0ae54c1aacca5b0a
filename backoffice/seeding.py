"""Bulk demo catalogue: up to millions of products with PostgreSQL COPY.

The rows go straight into the tables (products, variants, stock, images) with ids taken from the
sequences up front, so no per-row round trips and no ORM objects. Bulk seeding bypasses the services
on purpose: it writes no outbox rows (a million "product created" events would be replayed for
nothing), and ends with one rebuild of the derived data instead (``rebuild_derived_data``).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils.text import slugify

from backoffice import demo_data, demo_images
from catalog import services as catalog_services
from catalog.models import Brand, Category, Product
from search import services as search_services
from sellers.models import Seller

IMAGES_PER_PALETTE = 4
BATCH = 50_000

BRAND_WORDS = [
    "Acme",
    "Nordic",
    "Lumen",
    "Vertex",
    "Harbor",
    "Pioneer",
    "Aurora",
    "Summit",
    "Cobalt",
    "Maple",
    "Orbit",
    "Atlas",
    "Willow",
    "Ember",
    "Zenith",
    "Meridian",
    "Sable",
    "Juniper",
    "Falcon",
    "Crest",
    "Nimbus",
    "Quartz",
    "Redwood",
    "Solace",
    "Tundra",
    "Verde",
    "Brio",
    "Kestrel",
    "Lark",
    "Onyx",
]
BRAND_SUFFIXES = ["", " Labs", " & Co", " Works", " Studio"]
ADJECTIVES = [
    "Classic",
    "Essential",
    "Premium",
    "Compact",
    "Everyday",
    "Pro",
    "Ultra",
    "Lightweight",
    "Deluxe",
    "Eco",
    "Smart",
    "Heritage",
    "Modern",
    "Travel",
    "Signature",
    "Original",
    "Advanced",
    "Soft",
    "Rugged",
    "Mini",
]
COLOURS = ["Black", "White", "Navy", "Grey", "Red", "Green", "Sand", "Blue"]
SIZES = ["S", "M", "L", "XL"]
SENTENCES = [
    "Designed for daily use and built to last.",
    "Made from carefully selected materials and checked by hand before it ships.",
    "A favourite of our customers for its quality and value.",
    "Easy to clean, easy to store and easy to love.",
    "Comes with a two-year warranty and free returns within 30 days.",
    "Thoughtful details make it a pleasure to use every day.",
    "Tested by our team so you do not have to.",
    "Packed in recyclable materials.",
]


@dataclass
class SeedReport:
    products: int = 0
    variants: int = 0
    images: int = 0
    seconds: float = 0.0


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("ches", "shes", "sses", "xes")):
        return name[:-2]
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def ensure_brands() -> list[Brand]:
    names = [f"{word}{suffix}" for word in BRAND_WORDS for suffix in BRAND_SUFFIXES]
    existing = {b.name for b in Brand.objects.all()}
    Brand.objects.bulk_create(
        [Brand(name=name, slug=slugify(name)) for name in names if name not in existing], ignore_conflicts=True
    )
    return list(Brand.objects.filter(name__in=names).order_by("id"))


def ensure_demo_images(progress: Callable[[str], None], per_palette: int = IMAGES_PER_PALETTE) -> dict[int, list[dict]]:
    """The shared demo photos, made once through the real rendition pipeline: palette -> photos."""
    by_palette: dict[int, list[dict]] = {}
    for palette in range(len(demo_images.PALETTES)):
        photos = []
        for variation in range(per_palette):
            name = f"products/originals/demo/photo-{palette:02d}-{variation}.jpg"
            data = demo_images.product_photo(palette, variation)
            if not default_storage.exists(name):
                default_storage.save(name, ContentFile(data))
            renditions = catalog_services.image_renditions_make(
                original=data, prefix=f"products/r/demo-{palette:02d}-{variation}"
            )
            photos.append({"original": name, "renditions": renditions})
        by_palette[palette] = photos
    progress(f"{len(demo_images.PALETTES) * per_palette} demo photos with their renditions")
    return by_palette


def _reserve_ids(table: str, count: int) -> int:
    """Advance ``table``'s id sequence by ``count`` and return the first id reserved."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        highest = cursor.fetchone()[0]
        cursor.execute(
            "WITH seq AS (SELECT pg_get_serial_sequence(%s, 'id') AS name) "
            "SELECT setval(name, GREATEST(%s, COALESCE(pg_sequence_last_value(name::regclass), 0)) + %s) FROM seq",
            [table, highest, count],
        )
        last = cursor.fetchone()[0]
    return last - count + 1


def seed_products(
    *, target: int, progress: Callable[[str], None], seed: int = 42, photos_per_palette: int = IMAGES_PER_PALETTE
) -> SeedReport:
    """Add demo products until there are ``target`` of them. Idempotent: a second run adds nothing."""
    started = time.monotonic()
    report = SeedReport()
    existing = Product.objects.count()
    missing = target - existing
    if missing <= 0:
        progress(f"{existing:,} products already there: nothing to add")
        return report

    rng = random.Random(seed + existing)
    leaves = list(Category.objects.filter(depth=2).select_related("parent__parent").order_by("path"))
    if not leaves:
        raise RuntimeError("no categories: seed the category tree first")
    root_index = {root: i for i, root in enumerate(demo_data.CATEGORY_TREE)}
    sellers = list(Seller.objects.filter(status=Seller.Status.APPROVED).order_by("id"))
    if not sellers:
        raise RuntimeError("no approved sellers: seed the sellers first")
    brands = ensure_brands()
    photos = ensure_demo_images(progress, photos_per_palette)

    # Sequences advanced once for the whole run: ids are known without a round trip per row.
    first_product = _reserve_ids("catalog_product", missing)
    variants_per_product = [rng.choice((1, 1, 1, 2, 3)) for _ in range(missing)]
    total_variants = sum(variants_per_product)
    first_variant = _reserve_ids("catalog_variant", total_variants)
    first_stock = _reserve_ids("inventory_stock", total_variants)
    first_image = _reserve_ids("catalog_productimage", missing)
    now = datetime.now(tz=UTC)

    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY
        variant_id = first_variant
        stock_id = first_stock
        for batch_start in range(0, missing, BATCH):
            batch = range(batch_start, min(batch_start + BATCH, missing))
            products, variants, stocks, images = [], [], [], []
            for offset in batch:
                product_id = first_product + offset
                leaf = leaves[rng.randrange(len(leaves))]
                root_name = leaf.parent.parent.name
                palette = root_index.get(root_name, 0)
                brand = brands[rng.randrange(len(brands))]
                seller = sellers[rng.randrange(len(sellers))]
                noun = _singular(leaf.name)
                model = f"{rng.choice('ABCDEFGHKLMPRSTVXZ')}{rng.randint(10, 990)}"
                title = f"{brand.name} {rng.choice(ADJECTIVES)} {noun} {model}"
                slug = f"{slugify(title)[:200]}-{product_id}"
                description = " ".join(rng.sample(SENTENCES, 3))
                base_price = Decimal(rng.randint(299, 49999)) / 100
                created = now - timedelta(seconds=rng.randint(0, 365 * 24 * 3600))
                photo = photos[palette][rng.randrange(photos_per_palette)]
                image_id = first_image + offset
                n_variants = variants_per_product[offset]
                lowest = None
                for position in range(n_variants):
                    attributes = {"colour": COLOURS[(product_id + position) % len(COLOURS)]}
                    if n_variants > 1 and palette == 2:  # fashion comes in sizes
                        attributes = {
                            "size": SIZES[position % len(SIZES)],
                            "colour": COLOURS[product_id % len(COLOURS)],
                        }
                    price = base_price + Decimal(position * 5)
                    lowest = price if lowest is None else min(lowest, price)
                    compare_at = (price * Decimal("1.25")).quantize(Decimal("0.01")) if product_id % 7 == 0 else None
                    sku = f"D{product_id:08d}-{position}"
                    variants.append(
                        (variant_id, sku, price, compare_at, "EUR", json.dumps(attributes), rng.randint(100, 5000),
                         position, True, created, product_id)
                    )  # fmt: skip
                    on_hand = 0 if product_id % 23 == 0 else rng.randint(1, 250)
                    stocks.append((stock_id, sku, on_hand, 0, 5, now, variant_id))
                    variant_id += 1
                    stock_id += 1
                products.append(
                    (product_id, title, slug, description, "active", json.dumps({"warranty_years": 2}), lowest, "EUR",
                     created, created, brand.id, leaf.id, seller.id, image_id)
                )  # fmt: skip
                images.append(
                    (image_id, photo["original"], demo_images.SIZE, demo_images.SIZE, title, 0, "ready",
                     json.dumps(photo["renditions"]), created, product_id)
                )  # fmt: skip

            # Product and image rows point at each other: Django's foreign keys are DEFERRABLE
            # INITIALLY DEFERRED, so both are checked at commit.
            _copy(raw, "catalog_product",
                  ("id", "title", "slug", "description", "status", "attributes", "price", "currency", "created_at",
                   "updated_at", "brand_id", "category_id", "seller_id", "primary_image_id"), products)  # fmt: skip
            _copy(raw, "catalog_variant",
                  ("id", "sku", "price", "compare_at_price", "currency", "attributes", "weight_grams", "position",
                   "is_active", "created_at", "product_id"), variants)  # fmt: skip
            _copy(raw, "inventory_stock",
                  ("id", "sku", "on_hand", "reserved", "low_stock_threshold", "updated_at", "variant_id"),
                  stocks)  # fmt: skip
            _copy(raw, "catalog_productimage",
                  ("id", "original", "width", "height", "alt_text", "position", "status", "renditions", "created_at",
                   "product_id"), images)  # fmt: skip
            report.products += len(products)
            report.variants += len(variants)
            report.images += len(images)
            progress(f"{existing + report.products:,}/{target:,} products ({report.variants:,} variants)")
        progress("checking references (deferred foreign keys)")
    report.seconds = time.monotonic() - started
    return report


def _copy(raw_cursor, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    with raw_cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def rebuild_derived_data(progress: Callable[[str], None]) -> None:
    """One pass over whatever is derived from the catalogue, after a bulk load that wrote no events."""
    # VACUUM marks the loaded pages all-visible, so listings' index-only scans skip the heap (with
    # autovacuum off or behind, they would read it for every row). It cannot run inside a
    # transaction (the tests wrap each one in theirs): statistics alone then.
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in ("catalog_product", "catalog_variant", "catalog_productimage", "inventory_stock"):
            cursor.execute(f"{command} {table}")
    progress(f"tables vacuumed and statistics refreshed ({command})")
    search_services.documents_rebuild_all(progress=progress)
