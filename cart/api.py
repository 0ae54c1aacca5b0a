"""The cart endpoints of API.md, for guests (a signed cookie names their cart) and signed-in buyers
(JWT or session; DRF's SessionAuthentication enforces CSRF on session writes)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView

from cart import selectors, services, web
from cart.selectors import Cart
from shop.core.api import ApiError, Conflict, RateLimited, ServiceUnavailable

UNAVAILABLE = "Your cart is unavailable right now. Please try again in a few minutes; browsing and search still work."


class OutOfStockError(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "out_of_stock"
    default_detail = "Not enough units are available."


class AddItemSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=services.SKU_MAX_LENGTH)
    quantity = serializers.IntegerField(min_value=1)


class SetItemSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=0)


class CartLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    title = serializers.CharField()
    url = serializers.SerializerMethodField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    current_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    price_changed = serializers.BooleanField()
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()

    def get_url(self, line) -> str:
        return f"/p/{line.slug}/"


class RemovedLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    title = serializers.CharField()


class CartSerializer(serializers.Serializer):
    items = CartLineSerializer(many=True, source="lines")
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    item_count = serializers.IntegerField()
    removed = RemovedLineSerializer(many=True)
    read_only = serializers.BooleanField()


def _cart_response(request, owner, *, status_code: int = status.HTTP_200_OK) -> Response:
    try:
        cart: Cart = selectors.cart_get(owner=owner)
    except services.CartUnavailable:
        raise ServiceUnavailable(UNAVAILABLE) from None
    response = Response(CartSerializer(cart).data, status=status_code)
    return web.remember_guest(request._request, response, owner)


def _change(change) -> None:
    """Run a service, its errors in API.md's format."""
    try:
        change()
    except DjangoValidationError as exc:
        raise ValidationError(as_serializer_error(exc)) from None
    except services.OutOfStock as exc:
        raise OutOfStockError(str(exc), extra={"skus": exc.skus}) from None
    except services.CartLimitExceeded as exc:
        raise Conflict(str(exc)) from None
    except services.CartLineNotFound as exc:
        raise NotFound(str(exc)) from None
    except services.CartUnavailable:
        raise ServiceUnavailable(UNAVAILABLE) from None


class CartApi(APIView):
    """The buyer's cart: lines with their snapshot and current prices, the subtotal at current prices.
    Lines of products no longer sold are dropped and listed once in ``removed``. When Redis is down a
    durable cart is served from the database with ``read_only: true``; any other answers 503."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: CartSerializer})
    def get(self, request):
        return _cart_response(request, selectors.cart_owner_for_request(request))


class CartItemsApi(APIView):
    """Add units of a SKU to the cart (a guest gets a cart cookie). 409 ``out_of_stock`` when fewer
    units are available, 409 ``conflict`` past a cart limit, 429 past the add-to-cart rate limits."""

    permission_classes = [AllowAny]

    @extend_schema(request=AddItemSerializer, responses={201: CartSerializer})
    def post(self, request):
        owner = web.owner_for_write(request)
        if web.add_rate_limited(request._request, owner):
            raise RateLimited("You are adding to your cart too fast. Wait a minute and try again.")
        serializer = AddItemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _change(lambda: services.cart_line_add(owner=owner, **serializer.validated_data))
        return _cart_response(request, owner, status_code=status.HTTP_201_CREATED)


class CartItemApi(APIView):
    """Change the quantity of a line (0 removes it) or remove it; a SKU the cart does not hold is 404."""

    permission_classes = [AllowAny]

    def _owner(self, request):
        owner = selectors.cart_owner_for_request(request)
        if owner is None:
            raise NotFound("Your cart is empty.")
        return owner

    @extend_schema(request=SetItemSerializer, responses={200: CartSerializer})
    def patch(self, request, sku: str):
        owner = self._owner(request)
        serializer = SetItemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        quantity = serializer.validated_data["quantity"]
        _change(lambda: services.cart_line_set(owner=owner, sku=sku, quantity=quantity))
        return _cart_response(request, owner)

    @extend_schema(request=None, responses={200: CartSerializer})
    def delete(self, request, sku: str):
        owner = self._owner(request)
        _change(lambda: services.cart_line_remove(owner=owner, sku=sku))
        return _cart_response(request, owner)
