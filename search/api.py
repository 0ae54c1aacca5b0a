"""The search API (API.md): ``GET /api/v1/search/`` and ``GET /api/v1/search/suggest/``."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from search import selectors, services
from search.serializers import SearchResultSerializer, SuggestionsSerializer

_SEARCH_PARAMETERS = [
    OpenApiParameter("q", str, description="websearch syntax; the last word also matches as a prefix"),
    OpenApiParameter("category", str, description="a category path: it and its descendants"),
    OpenApiParameter("brand", str, many=True, description="brand names (repeat for several)"),
    OpenApiParameter("min_price", OpenApiTypes.DECIMAL),
    OpenApiParameter("max_price", OpenApiTypes.DECIMAL),
    OpenApiParameter("min_rating", OpenApiTypes.DECIMAL),
    OpenApiParameter("seller", str, description="a seller's slug"),
    OpenApiParameter("in_stock", str, description="1: only products in stock"),
    OpenApiParameter("sort", str, enum=["relevance", "price_asc", "price_desc", "rating", "newest"]),
    OpenApiParameter("page", int, description=f"1 to {selectors.MAX_PAGE}"),
    OpenApiParameter("page_size", int, description=f"1 to {selectors.MAX_PAGE_SIZE}"),
]


class SearchApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=_SEARCH_PARAMETERS, responses=SearchResultSerializer)
    def get(self, request: Request) -> Response:
        try:
            query = selectors.search_query_from_params(request.query_params)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        result = selectors.search_products(query)
        if query.q and query.page == 1 and result.count:
            services.popular_query_record(query=result.suggestion or query.q)
        return Response(SearchResultSerializer(result, context={"request": request}).data)


class SuggestApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=[OpenApiParameter("q", str)], responses=SuggestionsSerializer)
    def get(self, request: Request) -> Response:
        q = request.query_params.get("q", "")
        if len(q) > selectors.QUERY_MAX_LENGTH:
            raise ValidationError({"q": [f"A search is at most {selectors.QUERY_MAX_LENGTH} characters."]})
        return Response({"suggestions": selectors.search_suggestions(prefix=q)})
