"""The search API's response bodies (API.md, "Catalog and search")."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from rest_framework import serializers

from search import selectors
from search.backends.base import Hit


class SearchHitSerializer(serializers.Serializer):
    slug = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="The path of the product's storefront page.")
    title = serializers.CharField()
    brand = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    rating = serializers.DecimalField(max_digits=3, decimal_places=2)
    in_stock = serializers.BooleanField()
    image = serializers.SerializerMethodField(help_text="The thumbnail as JPEG (absolute URL), or null.")

    def get_url(self, hit: Hit) -> str:
        return selectors.product_url(hit.slug)

    def get_image(self, hit: Hit) -> str | None:
        url = selectors.hit_thumbnail_url(hit)
        if url is None:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def to_representation(self, hit: Hit) -> dict[str, Any]:
        """The fields above, read straight off the hit: a page of hits is most of a search response,
        and going through each field's generic machinery cost more than the rest of it (the fields
        stay declared for the schema and for input; a test checks both ways give the same)."""
        fields = self.fields
        return {
            "slug": hit.slug,
            "url": self._product_url(hit.slug),
            "title": hit.title,
            "brand": hit.brand,
            "price": fields["price"].to_representation(hit.price),
            "currency": hit.currency,
            "rating": fields["rating"].to_representation(hit.rating),
            "in_stock": hit.in_stock,
            "image": self.get_image(hit),
        }

    @cached_property
    def _product_url(self) -> Callable[[str], str]:
        return selectors.product_url_maker()


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class CategoryFacetSerializer(FacetValueSerializer):
    value = serializers.CharField(help_text="The category's path: pass it back as `category`.")
    name = serializers.CharField(source="label")


class PriceBucketSerializer(serializers.Serializer):
    min = serializers.DecimalField(max_digits=12, decimal_places=2)
    max = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    count = serializers.IntegerField()


class RatingBucketSerializer(serializers.Serializer):
    min = serializers.IntegerField()
    count = serializers.IntegerField()


class FacetsSerializer(serializers.Serializer):
    brand = FacetValueSerializer(many=True)
    category = CategoryFacetSerializer(many=True)
    price = PriceBucketSerializer(many=True)
    rating = RatingBucketSerializer(many=True)


class SearchResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Matches, counted up to 1,000 (see count_is_capped).")
    count_is_capped = serializers.BooleanField(help_text="There are more matches than `count`.")
    facets_approximate = serializers.BooleanField(
        source="facets.approximate", help_text="Facets were counted over a sample of the matches (a huge result set)."
    )
    results = SearchHitSerializer(many=True)
    facets = FacetsSerializer()
    suggestion = serializers.CharField(allow_null=True, help_text="The corrected query that was searched.")
    relaxed = serializers.BooleanField(
        help_text="Too few products matched every word: the results match any of them, those matching more words first."
    )


class SuggestionsSerializer(serializers.Serializer):
    suggestions = serializers.ListField(child=serializers.CharField())
