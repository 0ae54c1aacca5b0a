"""The storefront's read endpoints: product detail and the category tree (shared/API.md)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront import fragments, selectors, versions
from storefront.serializers import CategorySerializer, ProductSerializer


class ProductDetailApi(APIView):
    """A listed product with its variants and their live availability. 404 for any product buyers
    cannot see (draft, archived, or of a seller that is not approved)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=ProductSerializer)
    def get(self, request: Request, slug: str) -> Response:
        product = fragments.product(slug)  # the product page's cached data
        if product is None:
            raise NotFound("No listed product has this slug.")
        available = selectors.variant_availability(variant["id"] for variant in product["variants"])
        return Response(ProductSerializer(product, context={"request": request, "available": available}).data)


class CategoryListApi(APIView):
    """Every category, unpaginated, parents before children. A category's ``slug`` is unique only
    among its siblings ("phones" may sit under two parents): its ``path`` is the unique key."""

    permission_classes = [AllowAny]

    @extend_schema(responses=CategorySerializer(many=True))
    def get(self, request: Request) -> Response:
        body = versions.cached(
            "api.categories.v1",
            (),
            [versions.CATEGORIES],
            lambda: list(CategorySerializer(selectors.categories_for_api(), many=True).data),
            timeout=selectors.CATEGORY_TREE_TIMEOUT,
        )
        return Response(body)
