"""The shapes of the storefront's read endpoints (shared/API.md, "Catalog and search")."""

from __future__ import annotations

from rest_framework import serializers


class CategoryAttributeSerializer(serializers.Serializer):
    """One entry of a category's attribute schema: what products in it describe, and how."""

    name = serializers.CharField()
    type = serializers.CharField(default="text")
    required = serializers.BooleanField(default=False)
    choices = serializers.ListField(child=serializers.JSONField(), default=list)


class CategorySerializer(serializers.Serializer):
    slug = serializers.CharField(help_text="Unique among its siblings only; `path` is unique in the whole tree.")
    name = serializers.CharField()
    parent = serializers.CharField(
        source="parent_slug", allow_null=True, help_text="The parent's slug, or null for a root category."
    )
    parent_path = serializers.SerializerMethodField(help_text="The parent's path (unique), or null for a root.")
    path = serializers.CharField(help_text='The slugs from the root joined by "/": the unique key of a category.')
    url = serializers.CharField(help_text="The path of the category's storefront page.")
    attributes = CategoryAttributeSerializer(source="attribute_schema", many=True)

    def get_parent_path(self, category: dict) -> str | None:
        return category["path"].rsplit("/", 1)[0] if category["parent_id"] else None


class ProductSellerSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class ProductImageSerializer(serializers.Serializer):
    url = serializers.SerializerMethodField(help_text="The large rendition as JPEG (absolute URL).")
    width = serializers.IntegerField(source="large.width")
    height = serializers.IntegerField(source="large.height")
    alt = serializers.CharField()

    def get_url(self, image: dict) -> str:
        request = self.context.get("request")
        url = image["large"]["jpeg"]
        return request.build_absolute_uri(url) if request is not None else url


class RatingSerializer(serializers.Serializer):
    average = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)
    count = serializers.IntegerField()


class ProductVariantSerializer(serializers.Serializer):
    sku = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    compare_at_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    attributes = serializers.DictField()
    available = serializers.SerializerMethodField(help_text="Units that can be bought now.")

    def get_available(self, variant: dict) -> int:
        return max(self.context["available"].get(variant["id"], 0), 0)


class ProductSerializer(serializers.Serializer):
    slug = serializers.CharField()
    url = serializers.CharField(help_text="The path of the product's storefront page.")
    title = serializers.CharField()
    description = serializers.CharField()
    brand = serializers.CharField(allow_null=True, help_text="The brand's name.")
    category = serializers.CharField(source="category.slug", help_text="The category's slug.")
    category_path = serializers.CharField(source="category.path", help_text="The category's path (unique).")
    seller = ProductSellerSerializer()
    attributes = serializers.DictField()
    images = ProductImageSerializer(many=True)
    rating = serializers.SerializerMethodField()
    variants = ProductVariantSerializer(many=True)

    def get_rating(self, product: dict) -> dict:
        # The stored aggregate (reviews.selectors.product_rating), cached with the product's data.
        return RatingSerializer(product["rating"]).data
