"""The checkout and order endpoints of API.md ("Checkout and orders") for signed-in buyers (JWT or
session with CSRF). Each parses its input, calls one service or selector and renders; the saga's
rules live in orders.services.

Idempotency: ``POST /checkout/`` and ``POST /checkout/<id>/pay/`` need an ``Idempotency-Key``
header; the same key again answers the first result (a start: 200 with the same checkout; a pay:
the stored status and body) and charges nothing twice. A payment token that looks like a card
number is refused (400) before anything is stored, and never echoed.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView

from cart import services as cart_services
from orders import selectors, services
from orders.serializers import (
    CheckoutPaySerializer,
    CheckoutSerializer,
    CheckoutStartSerializer,
    OrderSerializer,
    ReturnRequestSerializer,
    ReturnSerializer,
    ShippingMethodSerializer,
)
from shop.core.api import ApiError, Conflict, ServiceUnavailable

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=True, description="The same key returns the first result."
)


class OutOfStockError(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "out_of_stock"
    default_detail = "Not enough units are available."


class ExpiredError(ApiError):
    status_code = status.HTTP_410_GONE
    default_code = "expired"
    default_detail = "This checkout has expired. Start again from your cart."


def _idempotency_key(request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    try:
        return services.clean_idempotency_key(key)
    except DjangoValidationError as exc:
        raise ValidationError(as_serializer_error(exc)) from None


def _invalid(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(as_serializer_error(exc))


def _checkout_errors(call):
    """Run a checkout service; its errors in API.md's format."""
    try:
        return call()
    except DjangoValidationError as exc:
        raise _invalid(exc) from None
    except services.CouponInvalid as exc:
        raise ValidationError({"coupon": [exc.message]}) from None
    except services.InvalidPaymentToken as exc:
        raise ValidationError({"payment_token": [str(exc)]}) from None
    except services.EmptyCart as exc:
        raise ApiError(str(exc)) from None
    except services.OutOfStock as exc:
        raise OutOfStockError(str(exc), extra={"skus": exc.skus}) from None
    except services.FlashSaleUnavailable as exc:
        raise ServiceUnavailable(str(exc)) from None
    except cart_services.CartUnavailable:
        raise ServiceUnavailable("Your cart is unavailable right now. Try again in a few minutes.") from None
    except services.CheckoutNotFound:
        raise Http404 from None
    except services.CheckoutExpired as exc:
        raise ExpiredError(str(exc)) from None
    except services.CheckoutConflict as exc:
        raise Conflict(str(exc), extra=exc.extra) from None
    except services.InvalidTransition as exc:
        raise Conflict(str(exc)) from None


def _checkout_body(checkout) -> dict:
    checkout = selectors.checkout_for_buyer(user=checkout.buyer, checkout_id=checkout.pk)
    return CheckoutSerializer(checkout).data


class ShippingMethodListApi(APIView):
    """The shipping methods offered; ``price`` is the base price of one seller's package."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: ShippingMethodSerializer(many=True)})
    def get(self, request):
        return Response(ShippingMethodSerializer(selectors.shipping_methods_active(), many=True).data)


class CheckoutStartApi(APIView):
    """Start a checkout of the cart: stock reserved until ``expires_at``, coupon applied, totals
    computed. 201 new, 200 for a replayed Idempotency-Key; 409 ``out_of_stock`` with ``skus``; 400 for
    an empty cart, an unknown coupon or shipping method."""

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER], request=CheckoutStartSerializer, responses={201: CheckoutSerializer}
    )
    def post(self, request):
        key = _idempotency_key(request)
        serializer = CheckoutStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        checkout, created = _checkout_errors(
            lambda: services.checkout_start(
                user=request.user,
                idempotency_key=key,
                shipping_method=data["shipping_method"],
                address_id=data.get("address_id"),
                address=dict(data["address"]) if data.get("address") else None,
                coupon=data.get("coupon", ""),
            )
        )
        return Response(_checkout_body(checkout), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CheckoutDetailApi(APIView):
    """The buyer's checkout; DELETE abandons it (stock and coupon released at once)."""

    def _checkout(self, request, checkout_id: int):
        checkout = selectors.checkout_for_buyer(user=request.user, checkout_id=checkout_id)
        if checkout is None:
            raise Http404
        return checkout

    @extend_schema(responses={200: CheckoutSerializer})
    def get(self, request, checkout_id: int):
        return Response(CheckoutSerializer(self._checkout(request, checkout_id)).data)

    @extend_schema(request=None, responses={200: CheckoutSerializer})
    def delete(self, request, checkout_id: int):
        checkout = _checkout_errors(lambda: services.checkout_abandon(user=request.user, checkout_id=checkout_id))
        return Response(_checkout_body(checkout))


class CheckoutPayApi(APIView):
    """Pay the checkout with a gateway token. 201 confirmed; 402 ``payment_declined`` (pay again with
    another token and a new key until ``expires_at``); 503 ``payment_unavailable``; 410 ``expired``;
    202 while the gateway's answer is pending; the same key again answers the same result."""

    @extend_schema(parameters=[IDEMPOTENCY_HEADER], request=CheckoutPaySerializer, responses={201: dict})
    def post(self, request, checkout_id: int):
        key = _idempotency_key(request)
        serializer = CheckoutPaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = _checkout_errors(
            lambda: services.checkout_pay(
                user=request.user,
                checkout_id=checkout_id,
                idempotency_key=key,
                token=data["payment_token"],
                gateway=data.get("gateway", ""),
            )
        )
        return Response(result.body, status=result.status_code)


class OrderListApi(generics.ListAPIView):
    """The buyer's orders, newest first (paginated)."""

    serializer_class = OrderSerializer

    def get_queryset(self):
        return selectors.orders_for_buyer(user=self.request.user)


class OrderDetailApi(APIView):
    """One of the buyer's orders with its sub-orders, timeline and returns; another buyer's is 404."""

    @extend_schema(responses={200: OrderSerializer})
    def get(self, request, number: str):
        return Response(OrderSerializer(_order(request, number)).data)


def _order(request, number: str):
    order = selectors.order_for_buyer(user=request.user, number=number)
    if order is None:
        raise Http404
    return order


class OrderCancelApi(APIView):
    """Cancel the whole order while no part of it has shipped: stock restored, refund issued; 409 otherwise."""

    @extend_schema(request=None, responses={200: OrderSerializer})
    def post(self, request, number: str):
        order = _order(request, number)
        _checkout_errors(
            lambda: services.order_cancel(order=order, actor=request.user, reason="cancelled by the buyer")
        )
        return Response(OrderSerializer(_order(request, number)).data)


class OrderReturnApi(APIView):
    """Ask to return units of a delivered sub-order; the seller approves (refund) or rejects."""

    @extend_schema(request=ReturnRequestSerializer, responses={201: ReturnSerializer})
    def post(self, request, number: str):
        order = _order(request, number)
        serializer = ReturnRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        the_return = _checkout_errors(
            lambda: services.return_request(
                order=order, lines=[dict(line) for line in data["lines"]], reason=data["reason"], actor=request.user
            )
        )
        return Response(ReturnSerializer(the_return).data, status=status.HTTP_201_CREATED)
