"""The search index the search app owns: one denormalized document per listed product, and the
vocabulary of indexed words behind typo tolerance.

``SearchDocument`` is derived data. It holds a row for a product exactly when buyers may see it
(``catalog.selectors.listed_products()`` with a price), is kept current by the outbox handlers in
``search.handlers`` and rebuilt in one set-based statement by ``search.services.documents_rebuild_all``.
Everything a result row shows (title, brand, price, stock, image) is read from it, so a search is
one query on one table.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Func, Value


class SearchDocument(models.Model):
    # No foreign key on purpose: the index is rebuilt and pruned by its own jobs, and a product row
    # locked by a catalog write must not block (or be blocked by) an index upsert.
    product_id = models.BigIntegerField(unique=True)
    slug = models.CharField(max_length=220)
    seller_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    # catalog.Category.path ("electronics/phones"): "this category and its descendants" is a prefix match
    category_path = models.CharField(max_length=400)
    brand = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    in_stock = models.BooleanField(default=False)
    # The primary image's renditions (catalog.ProductImage.renditions) when it is ready, else null.
    image = models.JSONField(null=True, blank=True)
    # Denormalized from the events reviews and orders publish (search.handlers); zero until then.
    rating = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    rating_count = models.PositiveIntegerField(default=0)
    seller_rating = models.DecimalField(max_digits=3, decimal_places=2, default=0)  # the seller's, 0 to 5
    sales_velocity = models.FloatField(default=0)  # units sold per day, recent window
    views = models.PositiveIntegerField(default=0)
    # Paid placement: boosted in relevance ranking while now() is within [sponsored_from, sponsored_until).
    sponsored_from = models.DateTimeField(null=True, blank=True)
    sponsored_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()  # the product's, for "newest"
    updated_at = models.DateTimeField(auto_now=True)  # the document's
    # A = title, B = brand and category names (the whole lineage), C = attribute values, D = description
    document = SearchVectorField()
    # The title, brand and category words alone (its A and B parts): what a word being typed may start
    # (search.backends.postgres). Stored, so a row is checked against it without filtering its
    # document again (ts_filter on every row read cost 2-9 µs: most of a prefix search).
    names = models.GeneratedField(
        expression=Func(F("document"), Value("{a,b}"), function="ts_filter", output_field=SearchVectorField()),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        indexes = [
            GinIndex(fields=["document"], name="search_doc_document_gin"),
            GinIndex(fields=["names"], name="search_doc_names_gin", fastupdate=False),
            models.Index(fields=["category_path"], name="search_doc_category_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["brand"], name="search_doc_brand_idx"),
            models.Index(fields=["price", "product_id"], name="search_doc_price_idx"),
            models.Index(fields=["-rating", "-product_id"], name="search_doc_rating_idx"),
            models.Index(fields=["-created_at", "-product_id"], name="search_doc_newest_idx"),
            models.Index(fields=["seller_id"], name="search_doc_seller_idx"),
            models.Index(fields=["category_id"], name="search_doc_category_id_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ProductRating(models.Model):
    """The latest ``product.rating_changed`` facts of a product (reviews.events), kept apart from its
    document so a document written later (a product published after its first review, or listed
    again) starts from them. ``as_of`` is the event's time: an older event arriving late is ignored."""

    product_id = models.BigIntegerField(primary_key=True)
    average = models.DecimalField(max_digits=3, decimal_places=2)
    count = models.PositiveIntegerField()
    as_of = models.DateTimeField()

    def __str__(self) -> str:
        return f"product {self.product_id}: {self.average} ({self.count})"


class SellerRating(models.Model):
    """The latest ``seller.rating_changed`` facts of a seller (reviews.events), for the documents of
    its products, those written later included."""

    seller_id = models.BigIntegerField(primary_key=True)
    rating = models.DecimalField(max_digits=3, decimal_places=2)
    review_count = models.PositiveIntegerField()
    fulfilment_days = models.FloatField(null=True, blank=True)
    as_of = models.DateTimeField()

    def __str__(self) -> str:
        return f"seller {self.seller_id}: {self.rating} ({self.review_count})"


class SearchTerm(models.Model):
    """A word of the index (a lexeme of the documents) and how many documents hold it: the
    vocabulary that decides whether a query word is known, and which correction is likeliest."""

    term = models.CharField(max_length=40, unique=True)
    frequency = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # autocomplete: words starting with what was typed, whatever the collation
            models.Index(fields=["term"], name="search_term_prefix_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.term


class SearchTermDeletion(models.Model):
    """Symmetric-delete spelling index (SymSpell): every string made by deleting one or two letters
    of a term, pointing back at the term. A misspelt word generates its own deletions; a term whose
    deletions meet them is within that edit distance. Built here because the embedded PostgreSQL has
    no pg_trgm (no contrib extensions at all)."""

    deletion = models.CharField(max_length=40)
    term = models.ForeignKey(SearchTerm, on_delete=models.CASCADE, related_name="+")

    class Meta:
        # the unique constraint's index (deletion, term_id) serves the lookups by deletion
        constraints = [models.UniqueConstraint(fields=["deletion", "term"], name="search_term_deletion_unique")]

    def __str__(self) -> str:
        return self.deletion


class PopularQuery(models.Model):
    """Queries buyers ran that found something, and how often: the first autocomplete suggestions."""

    query = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["-count"], name="search_popular_count_idx")]

    def __str__(self) -> str:
        return self.query
