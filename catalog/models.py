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
        return self.path.replace(PATH_SEPARATOR, " › ")

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
