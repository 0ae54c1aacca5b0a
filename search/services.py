"""Commands that keep the search index current.

A product has a ``SearchDocument`` exactly when buyers may see it: active, of an approved seller, with
a price (an active variant), the rule of ``catalog.selectors.listed_products()``. One SQL statement
builds documents for any set of products (``_UPSERT_SQL``), so a single product after its event, a
seller's whole range after a status change and the full rebuild of a million products share one
definition of the document. It reads the catalog, sellers and inventory tables directly, through
their models' table names: a set-based INSERT ... SELECT is what makes the full rebuild take minutes
rather than hours, and the rule it applies is the one the selectors apply.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.db import DatabaseError, connection, transaction

from catalog.models import Brand, Category, Product, ProductImage, Variant
from inventory.models import Stock
from search import spelling
from search.models import PopularQuery, ProductRating, SearchDocument, SellerRating
from sellers.models import Seller

logger = logging.getLogger(__name__)

TEXT_SEARCH_CONFIG = "simple"  # see search.backends.postgres: no stemming, so prefixes and the vocabulary are words
DESCRIPTION_INDEXED_CHARS = 5_000  # the start of a long description says what the product is; the rest is noise
POPULAR_QUERY_MAX_LENGTH = 100  # longer queries are pasted text, not something to suggest to others

_TABLES = {
    "product": Product._meta.db_table,
    "variant": Variant._meta.db_table,
    "category": Category._meta.db_table,
    "brand": Brand._meta.db_table,
    "image": ProductImage._meta.db_table,
    "seller": Seller._meta.db_table,
    "stock": Stock._meta.db_table,
    "document": SearchDocument._meta.db_table,
    "product_rating": ProductRating._meta.db_table,
    "seller_rating": SellerRating._meta.db_table,
}

# {where} narrows the products (a condition on p). Rating, sales, views and sponsorship are kept on
# conflict: they come from other events, not from the catalog. A new document starts from the last
# ratings the reviews events gave (ProductRating, SellerRating). A document that would not change is
# not written again: a seller's status event rebuilding 200,000 documents, or a reindex, leaves no
# dead rows (and no index entries) behind for what did not change. Returns the number of listed
# products in {where} (the documents they have now) and the number of documents written.
_UPSERT_SQL = """
WITH lineage AS (
    SELECT c.id, c.path,
           (SELECT string_agg(a.name, ' ' ORDER BY a.depth) FROM {category} a
            WHERE a.path = c.path OR c.path LIKE a.path || '/%%') AS names
    FROM {category} c
), listed (
    product_id, slug, seller_id, category_id, category_path, brand, title, price, currency, in_stock,
    image, rating, rating_count, seller_rating, sales_velocity, views, created_at, updated_at, document
) AS (
SELECT p.id, p.slug, p.seller_id, p.category_id, l.path, coalesce(b.name, ''), p.title, p.price, p.currency,
       EXISTS (SELECT 1 FROM {variant} v JOIN {stock} s ON s.variant_id = v.id
               WHERE v.product_id = p.id AND v.is_active AND s.on_hand > s.reserved),
       CASE WHEN i.status = 'ready' AND i.renditions <> '{{}}'::jsonb THEN i.renditions END,
       coalesce(pr.average, 0), coalesce(pr.count, 0), coalesce(sr.rating, 0), 0, 0, p.created_at, now(),
       setweight(to_tsvector(%(config)s::regconfig, p.title), 'A')
       || setweight(to_tsvector(%(config)s::regconfig, coalesce(b.name, '') || ' ' || coalesce(l.names, '')), 'B')
       || setweight(to_tsvector(%(config)s::regconfig, concat_ws(' ',
              CASE WHEN jsonb_typeof(p.attributes) = 'object'
                   THEN (SELECT string_agg(e.value, ' ') FROM jsonb_each_text(p.attributes) e) END,
              (SELECT string_agg(DISTINCT e.value, ' ')
               FROM {variant} v CROSS JOIN LATERAL jsonb_each_text(
                   CASE WHEN jsonb_typeof(v.attributes) = 'object' THEN v.attributes ELSE '{{}}'::jsonb END) e
               WHERE v.product_id = p.id AND v.is_active))), 'C')
       || setweight(to_tsvector(%(config)s::regconfig, left(p.description, %(description_chars)s)), 'D')
FROM {product} p
JOIN {seller} s ON s.id = p.seller_id
JOIN lineage l ON l.id = p.category_id
LEFT JOIN {brand} b ON b.id = p.brand_id
LEFT JOIN {image} i ON i.id = p.primary_image_id
LEFT JOIN {product_rating} pr ON pr.product_id = p.id
LEFT JOIN {seller_rating} sr ON sr.seller_id = p.seller_id
WHERE p.status = 'active' AND s.status = 'approved' AND p.price IS NOT NULL AND ({where})
), written AS (
INSERT INTO {document} AS d (
    product_id, slug, seller_id, category_id, category_path, brand, title, price, currency, in_stock,
    image, rating, rating_count, seller_rating, sales_velocity, views, created_at, updated_at, document
)
SELECT * FROM listed
ON CONFLICT (product_id) DO UPDATE SET
    slug = EXCLUDED.slug, seller_id = EXCLUDED.seller_id, category_id = EXCLUDED.category_id,
    category_path = EXCLUDED.category_path, brand = EXCLUDED.brand, title = EXCLUDED.title,
    price = EXCLUDED.price, currency = EXCLUDED.currency, in_stock = EXCLUDED.in_stock,
    image = EXCLUDED.image, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
    document = EXCLUDED.document
WHERE (d.slug, d.seller_id, d.category_id, d.category_path, d.brand, d.title, d.price, d.currency, d.in_stock,
       d.image, d.created_at, d.document)
    IS DISTINCT FROM (EXCLUDED.slug, EXCLUDED.seller_id, EXCLUDED.category_id, EXCLUDED.category_path,
       EXCLUDED.brand, EXCLUDED.title, EXCLUDED.price, EXCLUDED.currency, EXCLUDED.in_stock, EXCLUDED.image,
       EXCLUDED.created_at, EXCLUDED.document)
RETURNING 1
)
SELECT (SELECT count(*) FROM listed), (SELECT count(*) FROM written)
"""

# Documents of products in {where} that buyers may no longer see.
_DELETE_UNLISTED_SQL = """
DELETE FROM {document} d
WHERE ({where_doc}) AND NOT EXISTS (
    SELECT 1 FROM {product} p JOIN {seller} s ON s.id = p.seller_id
    WHERE p.id = d.product_id AND p.status = 'active' AND s.status = 'approved' AND p.price IS NOT NULL
)
"""


def _params(**extra) -> dict:
    return {"config": TEXT_SEARCH_CONFIG, "description_chars": DESCRIPTION_INDEXED_CHARS, **extra}


def _upsert(where: str, params: dict) -> tuple[int, int]:
    """Write the documents of the listed products in ``where`` that changed: (how many listed
    products there are, how many documents were written)."""
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT_SQL.format(where=where, **_TABLES), _params(**params))
        listed, written = cursor.fetchone()
        return listed, written


def _delete_unlisted(where_doc: str, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_DELETE_UNLISTED_SQL.format(where_doc=where_doc, **_TABLES), params)
        return cursor.rowcount


def _document_words(product_ids: list[int]) -> set[str]:
    """The lexemes of these documents, for the vocabulary."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT word FROM {_TABLES['document']} d, "  # noqa: S608 - table names from models
            "LATERAL unnest(tsvector_to_array(d.document)) AS word WHERE d.product_id = ANY(%s)",
            [product_ids],
        )
        return {row[0] for row in cursor.fetchall()}


@transaction.atomic
def document_rebuild(*, product_id: int) -> bool:
    """Bring one product's document up to date: written when buyers may see the product, deleted
    otherwise. Its new words join the vocabulary. True when the product has a document now."""
    listed, written = _upsert("p.id = %(product_id)s", {"product_id": product_id})
    indexed = listed > 0
    if written:
        spelling.vocabulary_add(_document_words([product_id]))
    elif not indexed:
        SearchDocument.objects.filter(product_id=product_id).delete()
    return indexed


@transaction.atomic
def documents_rebuild_for_seller(*, seller_id: int) -> int:
    """After a seller's status changed: index its listed products, drop the others. Returns how many
    documents the seller has now."""
    _delete_unlisted("d.seller_id = %(seller_id)s", {"seller_id": seller_id})
    count, written = _upsert("p.seller_id = %(seller_id)s", {"seller_id": seller_id})
    if written:  # the vocabulary only gains words: unchanged documents bring none
        ids = list(SearchDocument.objects.filter(seller_id=seller_id).values_list("product_id", flat=True))
        spelling.vocabulary_add(_document_words(ids))
    return count


def document_stock_refresh(*, variant_id: int) -> None:
    """Recompute ``in_stock`` of the document of this variant's product (after a stock change).

    A plain UPDATE of one column: stock changes with every checkout, and the text need not be
    rebuilt for it. Writes nothing when the flag did not change.
    """
    sql = """
        UPDATE {document} d SET in_stock = fresh.in_stock, updated_at = now()
        FROM (
            SELECT v.product_id, EXISTS (
                SELECT 1 FROM {variant} sibling JOIN {stock} s ON s.variant_id = sibling.id
                WHERE sibling.product_id = v.product_id AND sibling.is_active AND s.on_hand > s.reserved
            ) AS in_stock
            FROM {variant} v WHERE v.id = %(variant_id)s
        ) AS fresh
        WHERE d.product_id = fresh.product_id AND d.in_stock IS DISTINCT FROM fresh.in_stock
    """
    with connection.cursor() as cursor:
        cursor.execute(sql.format(**_TABLES), {"variant_id": variant_id})


def documents_rebuild_all(*, progress: Callable[[str], None] = lambda message: None) -> int:
    """Rebuild the whole index and vocabulary from the catalogue. Returns the number of documents.

    For bulk loads that published no events (backoffice.seeding) and for ``manage.py search_reindex``.
    Upserts every listed product in batches of product ids (each its own transaction, so a million
    products never sit in one long transaction and searches keep answering from the old rows), then
    deletes documents of products no longer listed, then rebuilds the vocabulary.
    """
    started = time.monotonic()
    bounds = Product.objects.order_by().values_list("id", flat=True)
    first, last = bounds.order_by("id").first(), bounds.order_by("-id").first()
    indexed = 0
    if first is not None and last is not None:
        batch = 50_000
        pending_list = _names_index_fast_update(True)
        try:
            for low in range(first, last + 1, batch):
                with transaction.atomic():
                    indexed += _upsert("p.id >= %(low)s AND p.id < %(high)s", {"low": low, "high": low + batch})[0]
                progress(f"search: {indexed:,} documents (products up to id {min(low + batch - 1, last):,})")
        finally:
            if pending_list:
                _names_index_fast_update(False)
    with transaction.atomic():
        removed = _delete_unlisted("TRUE", {})
    if removed:
        progress(f"search: {removed:,} documents of unlisted products removed")
    with transaction.atomic():
        terms = spelling.vocabulary_rebuild()
    with connection.cursor() as cursor:
        for table in ("search_searchdocument", "search_searchterm", "search_searchtermdeletion"):
            cursor.execute(f"ANALYZE {table}")
    progress(f"search: {indexed:,} documents, {terms:,} terms in {time.monotonic() - started:.1f}s")
    return indexed


def _names_index_fast_update(on: bool) -> bool:
    """The names index (search.models) is written row by row, without the pending list that every
    search would scan until the next vacuum. A bulk rebuild turns the list on while it writes (row by
    row, 200,000 documents took 63 s against 52 s), then merges it into the index.

    Changing the setting takes an exclusive lock on the index, which queues every search behind it
    while it waits for transactions using the table: it gives up after ``NAMES_INDEX_LOCK_TIMEOUT``
    (a rebuild on a busy shop then writes row by row), as it does when the database role does not
    own the index. True when the setting was changed."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{NAMES_INDEX_LOCK_TIMEOUT}'")
            cursor.execute(f"ALTER INDEX search_doc_names_gin SET (fastupdate = {'on' if on else 'off'})")
            if not on:
                cursor.execute("SELECT gin_clean_pending_list('search_doc_names_gin'::regclass)")
    except DatabaseError as error:
        logger.warning("search: names index fastupdate left as it was (wanted %s): %s", on, error)
        return False
    return True


NAMES_INDEX_LOCK_TIMEOUT = "2s"


_PRODUCT_RATING_SQL = """
INSERT INTO {product_rating} AS r (product_id, average, count, as_of)
VALUES (%(id)s, %(average)s, %(count)s, %(as_of)s)
ON CONFLICT (product_id) DO UPDATE SET average = EXCLUDED.average, count = EXCLUDED.count, as_of = EXCLUDED.as_of
WHERE r.as_of <= EXCLUDED.as_of
RETURNING product_id
"""

_SELLER_RATING_SQL = """
INSERT INTO {seller_rating} AS r (seller_id, rating, review_count, fulfilment_days, as_of)
VALUES (%(id)s, %(rating)s, %(count)s, %(fulfilment_days)s, %(as_of)s)
ON CONFLICT (seller_id) DO UPDATE SET rating = EXCLUDED.rating, review_count = EXCLUDED.review_count,
    fulfilment_days = EXCLUDED.fulfilment_days, as_of = EXCLUDED.as_of
WHERE r.as_of <= EXCLUDED.as_of
RETURNING seller_id
"""


def _newer(sql: str, params: dict) -> bool:
    """Run a ratings upsert that writes only over older figures; True when it wrote. Concurrent
    writers of one row queue on its lock and each compares with what the previous one committed."""
    with connection.cursor() as cursor:
        cursor.execute(sql.format(**_TABLES), params)
        return cursor.fetchone() is not None


@transaction.atomic
def product_rating_apply(*, product_id: int, average: Decimal, count: int, as_of: datetime) -> bool:
    """A product's rating changed (reviews' ``product.rating_changed``): kept for documents written
    later, and written into its document now. False, and nothing written, when figures newer than
    ``as_of`` are already applied (events may arrive out of order)."""
    params = {"id": product_id, "average": average, "count": count, "as_of": as_of}
    if not _newer(_PRODUCT_RATING_SQL, params):
        return False
    SearchDocument.objects.filter(product_id=product_id).update(rating=average, rating_count=count)
    return True


@transaction.atomic
def seller_rating_apply(
    *, seller_id: int, rating: Decimal, review_count: int, fulfilment_days: float | None, as_of: datetime
) -> bool:
    """A seller's rating changed (reviews' ``seller.rating_changed``): written into the documents of
    all its products, where it is a small ranking boost. False when newer figures are applied."""
    params = {
        "id": seller_id,
        "rating": rating,
        "count": review_count,
        "fulfilment_days": fulfilment_days,
        "as_of": as_of,
    }
    if not _newer(_SELLER_RATING_SQL, params):
        return False
    SearchDocument.objects.filter(seller_id=seller_id).exclude(seller_rating=rating).update(seller_rating=rating)
    return True


_SPACES = re.compile(r"\s+")


def popular_query_record(*, query: str) -> None:
    """Count a query that found products, for autocomplete: one statement (an upsert); skipped for
    long queries.

    Committed without waiting for the write-ahead log to reach the disk (``synchronous_commit``
    off for this statement's own transaction, set in the statement itself): every search makes this
    write, and a count lost in a crash is harmless, while waiting for the flush (and a round trip
    for each of BEGIN, SET, UPDATE and COMMIT) is most of its cost. Inside a caller's transaction
    it is a plain upsert: a caller's commit is never relaxed."""
    normalized = _SPACES.sub(" ", query).strip().lower()
    if not normalized or len(normalized) > POPULAR_QUERY_MAX_LENGTH:
        return
    # never relax a caller's transaction (an atomic block, or autocommit turned off)
    relax = _RELAXED_COMMIT if connection.get_autocommit() and not connection.in_atomic_block else ""
    with connection.cursor() as cursor:
        cursor.execute(_POPULAR_QUERY_UPSERT.format(table=PopularQuery._meta.db_table, relax=relax), [normalized])


# set_config(..., true) lasts until the end of the transaction: in autocommit, this statement's own
_RELAXED_COMMIT = ", (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
_POPULAR_QUERY_UPSERT = """
INSERT INTO {table} (query, count, updated_at) SELECT %s, 1, now() FROM (SELECT 1) AS one{relax}
ON CONFLICT (query) DO UPDATE SET count = {table}.count + 1, updated_at = EXCLUDED.updated_at
"""
