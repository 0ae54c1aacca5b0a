"""The seller API of API.md ("Sellers"): a seller's products with their variants and stock.

Only approved sellers get in (``IsApprovedSeller``: 403 ``forbidden`` for anyone else signed in).
Every lookup goes through the seller's own products, so another seller's product or SKU is simply
not found (404), never forbidden: its existence is not revealed. Writes accept a JWT or the session
cookie with its CSRF token.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from catalog.models import Product, Variant
from catalog.services import SellerCannotPublish
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import selectors as order_selectors
from orders import services as order_services
from reviews import services as reviews_services
from reviews.models import REPLY_MAX_LENGTH, Review
from sellers.models import Seller
from shop.core.api import Conflict

from . import services
from .serializers import (
    SellerApproveReturnSerializer,
    SellerProductCreateSerializer,
    SellerProductSerializer,
    SellerProductUpdateSerializer,
    SellerRejectSerializer,
    SellerReturnSerializer,
    SellerShipSerializer,
    SellerStockSerializer,
    SellerStockWriteSerializer,
    SellerSubOrderSerializer,
)


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=REPLY_MAX_LENGTH)


class ReplyOutSerializer(serializers.Serializer):
    review_id = serializers.IntegerField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


_REFUSED: dict[str, str] = {
    Seller.Status.PENDING: "Your store is waiting for review; the seller API opens once it is approved.",
    Seller.Status.REJECTED: "Your application to sell was not approved.",
    Seller.Status.SUSPENDED: "Your store is suspended.",
}


def seller_of(user) -> Seller | None:
    """The user's seller whatever its status, or None (a buyer, or anonymous)."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.seller
    except ObjectDoesNotExist:
        return None


class IsApprovedSeller(BasePermission):
    """Signed in as the user of an approved seller."""

    message = "Only sellers can use the seller API. Apply to sell first."

    def has_permission(self, request, view) -> bool:
        seller = seller_of(request.user)
        if seller is None:
            return False
        if seller.status != Seller.Status.APPROVED:
            self.message = _REFUSED.get(seller.status, "Your store cannot use the seller API.")
            return False
        return True


def _invalid(exc: DjangoValidationError) -> ValidationError:
    """A service's ValidationError as DRF's, so the handler answers 400 with ``fields``."""
    return ValidationError(as_serializer_error(exc))


def _own_products(seller: Seller) -> QuerySet[Product]:
    """The seller's products (every status) with what their representation needs, in three queries."""
    return (
        Product.objects.filter(seller=seller)
        .select_related("category", "brand")
        .prefetch_related(Prefetch("variants", queryset=Variant.objects.order_by("position", "id")))
    )


def _represent(products: list[Product]) -> list:
    variant_ids = [variant.pk for product in products for variant in product.variants.all()]
    stock = inventory_selectors.stock_for_variants(variant_ids=variant_ids)
    return list(SellerProductSerializer(products, many=True, context={"stock": stock}).data)


class SellerApi(generics.GenericAPIView):
    """Base of the seller endpoints: an approved seller signed in."""

    permission_classes = [IsAuthenticated, IsApprovedSeller]

    @property
    def seller(self) -> Seller:
        seller = seller_of(self.request.user)
        if seller is None:  # IsApprovedSeller lets no one without a seller in; stay safe if it changes
            raise PermissionDenied
        return seller


class SellerProductListApi(SellerApi):
    """The seller's own products, newest first (paginated); POST creates one with its variants and stock."""

    serializer_class = SellerProductCreateSerializer

    def get_queryset(self):
        return _own_products(self.seller)

    @extend_schema(responses={200: SellerProductSerializer(many=True)})
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(_represent(page))

    @extend_schema(request=SellerProductCreateSerializer, responses={201: SellerProductSerializer})
    def post(self, request):
        serializer = SellerProductCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            product = services.seller_product_create(
                seller=self.seller, data=serializer.validated_data, actor=request.user
            )
        except DjangoValidationError as exc:
            raise _invalid(exc) from None
        except SellerCannotPublish as exc:
            raise PermissionDenied(str(exc)) from None
        product = self.get_queryset().get(pk=product.pk)
        return Response(_represent([product])[0], status=status.HTTP_201_CREATED)


class SellerProductDetailApi(SellerApi):
    """One of the seller's products by slug; PATCH changes the fields given. Another seller's is 404."""

    serializer_class = SellerProductUpdateSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return _own_products(self.seller)

    @extend_schema(responses={200: SellerProductSerializer})
    def get(self, request, slug):
        return Response(_represent([self.get_object()])[0])

    @extend_schema(request=SellerProductUpdateSerializer, responses={200: SellerProductSerializer})
    def patch(self, request, slug):
        product = self.get_object()
        serializer = SellerProductUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            services.seller_product_update(
                seller=self.seller, product=product, data=serializer.validated_data, actor=request.user
            )
        except DjangoValidationError as exc:
            raise _invalid(exc) from None
        except SellerCannotPublish as exc:
            raise PermissionDenied(str(exc)) from None
        return Response(_represent([self.get_queryset().get(pk=product.pk)])[0])


class SellerStockApi(SellerApi):
    """The stock of one of the seller's SKUs. PUT ``{on_hand}`` sets the count, ``{delta, reason}``
    changes it; leaving fewer units than are reserved is 409 ``conflict``."""

    serializer_class = SellerStockWriteSerializer

    def _variant(self, sku: str) -> Variant:
        variant = Variant.objects.filter(sku=sku, product__seller=self.seller).first()
        if variant is None:
            raise Http404
        return variant

    @extend_schema(responses={200: SellerStockSerializer})
    def get(self, request, sku):
        variant = self._variant(sku)
        stock = inventory_selectors.stock_get(sku=variant.sku)
        return Response(_stock_body(variant, stock))

    @extend_schema(request=SellerStockWriteSerializer, responses={200: SellerStockSerializer})
    def put(self, request, sku):
        variant = self._variant(sku)
        serializer = SellerStockWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if "on_hand" in data:
                stock = inventory_services.stock_set(
                    variant=variant,
                    on_hand=data["on_hand"],
                    actor=request.user,
                    reason=data.get("reason") or inventory_services.DEFAULT_SET_REASON,
                )
            else:
                stock = inventory_services.stock_adjust(
                    sku=variant.sku, delta=data["delta"], reason=data["reason"], actor=request.user
                )
        except inventory_services.StockConflict as exc:
            raise Conflict(str(exc)) from None
        except DjangoValidationError as exc:
            raise _invalid(exc) from None
        return Response(_stock_body(variant, stock))


def _stock_body(variant: Variant, stock) -> dict:
    if stock is None:
        return {"sku": variant.sku, "on_hand": 0, "reserved": 0, "available": 0}
    return SellerStockSerializer(stock).data


# --- review replies -------------------------------------------------------------------------------


class SellerReviewReplyApi(SellerApi):
    """The seller's one public reply to a published review of one of its products: 201 the reply;
    a second reply is 409 ``conflict``; a review of another seller's product is 404."""

    serializer_class = ReplySerializer

    @extend_schema(request=ReplySerializer, responses={201: ReplyOutSerializer})
    def post(self, request, review_id: int):
        serializer = ReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            reply = reviews_services.review_reply_create(
                review_id=review_id, seller=self.seller, body=serializer.validated_data["body"]
            )
        except Review.DoesNotExist:
            raise Http404 from None
        except reviews_services.ReviewConflict as exc:
            raise Conflict(str(exc)) from None
        except reviews_services.ReviewNotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise _invalid(exc) from None
        return Response(ReplyOutSerializer(reply).data, status=status.HTTP_201_CREATED)


# --- sub-orders and returns (orders) --------------------------------------------------------------


def _order_conflicts(call):
    """Run an orders service; a move its state does not allow is 409, bad input 400."""
    try:
        return call()
    except order_services.InvalidTransition as exc:
        raise Conflict(str(exc)) from None
    except DjangoValidationError as exc:
        raise _invalid(exc) from None


class SellerSubOrderListApi(SellerApi):
    """The seller's sub-orders, newest first (paginated); ``?status=`` filters."""

    serializer_class = SellerSubOrderSerializer

    def get_queryset(self):
        return order_selectors.sub_orders_for_seller(seller=self.seller, status=self.request.query_params.get("status"))

    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SellerSubOrderSerializer(page, many=True).data)


class SellerSubOrderActionApi(SellerApi):
    """Base of the fulfilment actions on one of the seller's sub-orders (another seller's: 404)."""

    def sub_order(self, sub_order_id: int):
        sub_order = order_selectors.sub_order_for_seller(seller=self.seller, sub_order_id=sub_order_id)
        if sub_order is None:
            raise Http404
        return sub_order

    def answer(self, sub_order_id: int) -> Response:
        return Response(SellerSubOrderSerializer(self.sub_order(sub_order_id)).data)


class SellerSubOrderShipApi(SellerSubOrderActionApi):
    """Hand the package to a carrier (from confirmed or processing); 409 from any other status."""

    serializer_class = SellerShipSerializer

    @extend_schema(request=SellerShipSerializer, responses={200: SellerSubOrderSerializer})
    def post(self, request, sub_order_id: int):
        sub_order = self.sub_order(sub_order_id)
        serializer = SellerShipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _order_conflicts(
            lambda: order_services.sub_order_ship(sub_order=sub_order, actor=request.user, **serializer.validated_data)
        )
        return self.answer(sub_order_id)


class SellerSubOrderDeliverApi(SellerSubOrderActionApi):
    """Mark a shipped package delivered; 409 before it shipped."""

    @extend_schema(request=None, responses={200: SellerSubOrderSerializer})
    def post(self, request, sub_order_id: int):
        sub_order = self.sub_order(sub_order_id)
        _order_conflicts(lambda: order_services.sub_order_deliver(sub_order=sub_order, actor=request.user))
        return self.answer(sub_order_id)


class SellerSubOrderProcessApi(SellerSubOrderActionApi):
    """Start preparing a confirmed package (optional: shipping straight from confirmed is allowed)."""

    @extend_schema(request=None, responses={200: SellerSubOrderSerializer})
    def post(self, request, sub_order_id: int):
        sub_order = self.sub_order(sub_order_id)
        _order_conflicts(lambda: order_services.sub_order_process(sub_order=sub_order, actor=request.user))
        return self.answer(sub_order_id)


class SellerSubOrderCancelApi(SellerSubOrderActionApi):
    """Cancel a sub-order not shipped yet: its stock goes back on hand, the buyer is refunded."""

    @extend_schema(request=None, responses={200: SellerSubOrderSerializer})
    def post(self, request, sub_order_id: int):
        sub_order = self.sub_order(sub_order_id)
        _order_conflicts(
            lambda: order_services.sub_order_cancel(
                sub_order=sub_order, actor=request.user, reason="cancelled by the seller"
            )
        )
        return self.answer(sub_order_id)


class SellerReturnListApi(SellerApi):
    """Returns of the seller's sub-orders, newest first (paginated); ``?status=`` filters."""

    serializer_class = SellerReturnSerializer

    def get_queryset(self):
        return order_selectors.returns_for_seller(seller=self.seller, status=self.request.query_params.get("status"))

    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SellerReturnSerializer(page, many=True).data)


class SellerReturnActionApi(SellerApi):
    def the_return(self, return_id: int):
        the_return = order_selectors.return_for_seller(seller=self.seller, return_id=return_id)
        if the_return is None:
            raise Http404
        return the_return

    def answer(self, return_id: int) -> Response:
        return Response(SellerReturnSerializer(self.the_return(return_id)).data)


class SellerReturnApproveApi(SellerReturnActionApi):
    """Approve a requested return: its lines' stored amounts are refunded (status ``refunded``).
    ``{"restock": true}`` also puts the returned units back on hand (the goods are back and can be
    sold again); without a body nothing goes back in stock."""

    serializer_class = SellerApproveReturnSerializer

    @extend_schema(request=SellerApproveReturnSerializer, responses={200: SellerReturnSerializer})
    def post(self, request, return_id: int):
        the_return = self.the_return(return_id)
        serializer = SellerApproveReturnSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        restock = serializer.validated_data["restock"]
        _order_conflicts(
            lambda: order_services.return_approve(the_return=the_return, actor=request.user, restock=restock)
        )
        return self.answer(return_id)


class SellerReturnRejectApi(SellerReturnActionApi):
    """Reject a requested return, saying why."""

    serializer_class = SellerRejectSerializer

    @extend_schema(request=SellerRejectSerializer, responses={200: SellerReturnSerializer})
    def post(self, request, return_id: int):
        the_return = self.the_return(return_id)
        serializer = SellerRejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _order_conflicts(
            lambda: order_services.return_reject(
                the_return=the_return, reason=serializer.validated_data["reason"], actor=request.user
            )
        )
        return self.answer(return_id)
