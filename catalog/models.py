"""The catalog: a category tree (materialized path), brands, products and their variants."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

PATH_SEPARATOR = "/"


class Category(models.Model):
    """A node of the category tree. ``path`` is the slugs from the root, joined by '/'
    ("electronics/phones/android"): descendants are a prefix match on one indexed column, and
    breadcrumbs are the path's prefixes, so neither needs a recursive query."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    path = models.CharField(max_length=400, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    position = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)
    commission_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Overrides the platform rate for products in this category (0.1000 is 10%).",
    )
    # [{"name": "screen_size", "type": "number", "required": true, "choices": []}, ...]
    attribute_schema = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["parent", "slug"], name="category_slug_unique_among_siblings"),
        ]
        indexes = [
            # LIKE 'a/b/%' prefix scans whatever the database collation
            models.Index(fields=["path"], name="category_path_prefix_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.path.replace(PATH_SEPARATOR, " / ")

    def save(self, *args, **kwargs) -> None:
        self.path = f"{self.parent.path}{PATH_SEPARATOR}{self.slug}" if self.parent_id else self.slug
        self.depth = self.path.count(PATH_SEPARATOR)
        super().save(*args, **kwargs)

    @property
    def ancestor_paths(self) -> list[str]:
        parts = self.path.split(PATH_SEPARATOR)
        return [PATH_SEPARATOR.join(parts[:i]) for i in range(1, len(parts))]


class Brand(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="brand_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    seller = models.ForeignKey("sellers.Seller", on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, null=True, blank=True, related_name="products")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Validated against the category's attribute_schema (catalog.services), stored as JSONB.
    attributes = models.JSONField(default=dict, blank=True)
    # Buyers see a product when it is active and its seller approved: listings filter on both
    # (catalog.selectors.listed_products), so suspending a seller delists its products at once.
    # Denormalized for listings and kept by catalog.services: the lowest active variant price
    # (sorts and filters) and the first image (the listing thumbnail).
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, editable=False)
    currency = models.CharField(max_length=3, default="EUR")
    primary_image = models.ForeignKey(
        "ProductImage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # category pages: listed products of a category, newest first / by price (keyset pagination)
            # ("include": the seller and price are read from the index, so deep pages skip the heap)
            models.Index(
                fields=["category", "-created_at", "-id"],
                name="product_listed_new_idx",
                condition=models.Q(status="active"),
                include=["seller", "price"],
            ),
            models.Index(
                fields=["category", "price", "id"],
                name="product_listed_price_idx",
                condition=models.Q(status="active"),
                include=["seller"],
            ),
            models.Index(
                fields=["-created_at", "-id"], name="product_listed_recent_idx", condition=models.Q(status="active")
            ),
            # seller pages: a store's listed products, newest first / by price
            models.Index(
                fields=["seller", "-created_at", "-id"],
                name="product_seller_new_idx",
                condition=models.Q(status="active"),
                include=["price"],
            ),
            models.Index(
                fields=["seller", "price", "id"], name="product_seller_price_idx", condition=models.Q(status="active")
            ),
            # the seller admin: all of a seller's products, whatever their status
            models.Index(fields=["seller", "-created_at", "-id"], name="product_seller_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Variant(models.Model):
    """One buyable version of a product (a size, a colour): one SKU, one price."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField("SKU", max_length=64, unique=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    compare_at_price = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="The former price, shown struck through."
    )
    currency = models.CharField(max_length=3, default="EUR")
    attributes = models.JSONField(default=dict, blank=True)  # {"size": "M", "colour": "Navy"}
    weight_grams = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="variant_price_positive"),
        ]

    def __str__(self) -> str:
        return self.sku


class ProductImage(models.Model):
    """An uploaded image and its renditions (made by a Celery task, catalog.tasks)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    original = models.ImageField(upload_to="products/originals/%Y/%m/", width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    alt_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # {"thumbnail": {"webp": "path", "jpeg": "path", "width": 200, "height": 200}, "medium": ..., "large": ...}
    renditions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.alt_text or self.original.name
