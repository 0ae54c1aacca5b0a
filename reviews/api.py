"""The reviews API of API.md: a product's reviews (list, write), the author's edit and delete,
helpful votes, abuse reports and photos. Another user's review is 404, as if it did not exist."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from catalog import selectors as catalog_selectors
from catalog.models import Product
from reviews import selectors, services
from reviews.models import Review
from reviews.serializers import (
    HelpfulSerializer,
    PhotoUploadSerializer,
    ReportSerializer,
    ReviewSerializer,
    ReviewWriteSerializer,
)
from shop.core import ratelimit
from shop.core.api import Conflict, RateLimited

T = TypeVar("T")
NOT_FOUND = "No review with this id, or not one of yours."


def call(action: Callable[[], T]) -> T:
    """Run a service, answering its refusals in API.md's format."""
    try:
        return action()
    except DjangoValidationError as exc:
        raise ValidationError(as_serializer_error(exc)) from None
    except services.ReviewConflict as exc:
        raise Conflict(str(exc)) from None
    except services.ReviewNotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    except Review.DoesNotExist:
        raise NotFound(NOT_FOUND) from None


def _listed_product(slug: str) -> Product:
    product = catalog_selectors.listed_products().select_related("seller").filter(slug=slug).first()
    if product is None:
        raise NotFound("No listed product has this slug.")
    return product


def _own(review: Review) -> dict:
    """The author's view of their review: with its status (a held review is ``pending``)."""
    fresh = selectors.with_photos_and_reply(Review.objects.filter(pk=review.pk)).get()
    return ReviewSerializer({**selectors.review_data(fresh), "status": fresh.status}).data


class ProductReviewsApi(generics.GenericAPIView):
    """A product's published reviews, verified purchases first, then the most helpful, then the
    newest (paginated, anyone); POST writes the signed-in buyer's review (once per product)."""

    serializer_class = ReviewWriteSerializer

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(responses={200: ReviewSerializer(many=True)})
    def get(self, request: Request, slug: str) -> Response:
        product = _listed_product(slug)
        reviews = selectors.with_photos_and_reply(selectors.published_reviews(product_id=product.pk))
        page = self.paginate_queryset(reviews)
        return self.get_paginated_response(ReviewSerializer([selectors.review_data(r) for r in page], many=True).data)

    @extend_schema(request=ReviewWriteSerializer, responses={201: ReviewSerializer})
    def post(self, request: Request, slug: str) -> Response:
        product = _listed_product(slug)
        if ratelimit.hit(request._request, "review_create", key="user"):
            raise RateLimited("You are writing reviews too fast. Wait a while and try again.")
        serializer = ReviewWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = call(lambda: services.review_create(user=request.user, product=product, **serializer.validated_data))
        return Response(_own(review), status=status.HTTP_201_CREATED)


class ReviewDetailApi(generics.GenericAPIView):
    """The author's review: GET, PATCH (any of rating, title, body), DELETE."""

    permission_classes = [IsAuthenticated]
    serializer_class = ReviewWriteSerializer

    def _review(self, review_id: int) -> Review:
        review = selectors.review_for_author(review_id=review_id, user_id=self.request.user.pk)
        if review is None:
            raise NotFound(NOT_FOUND)
        return review

    @extend_schema(responses={200: ReviewSerializer})
    def get(self, request: Request, review_id: int) -> Response:
        return Response(_own(self._review(review_id)))

    @extend_schema(request=ReviewWriteSerializer(partial=True), responses={200: ReviewSerializer})
    def patch(self, request: Request, review_id: int) -> Response:
        self._review(review_id)
        serializer = ReviewWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = {name: serializer.validated_data[name] for name in ("rating", "title", "body") if name in request.data}
        review = call(lambda: services.review_update(review_id=review_id, author=request.user, **fields))
        return Response(_own(review))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, review_id: int) -> Response:
        call(lambda: services.review_delete(review_id=review_id, author=request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReviewHelpfulApi(generics.GenericAPIView):
    """Vote a published review helpful: once per user (409 the second time), never one's own (403)."""

    permission_classes = [IsAuthenticated]
    serializer_class = HelpfulSerializer

    @extend_schema(request=None, responses={201: HelpfulSerializer})
    def post(self, request: Request, review_id: int) -> Response:
        review = call(lambda: services.review_vote_helpful(review_id=review_id, user=request.user))
        return Response({"id": review.pk, "helpful_count": review.helpful_count}, status=status.HTTP_201_CREATED)


class ReviewReportApi(generics.GenericAPIView):
    """Report a published review as abusive, with a reason: once per user (409 the second time)."""

    permission_classes = [IsAuthenticated]
    serializer_class = ReportSerializer

    @extend_schema(request=ReportSerializer, responses={201: ReportSerializer})
    def post(self, request: Request, review_id: int) -> Response:
        serializer = ReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        report = call(lambda: services.review_report(review_id=review_id, user=request.user, reason=reason))
        return Response({"reason": report.reason}, status=status.HTTP_201_CREATED)


class ReviewPhotoApi(generics.GenericAPIView):
    """Add a photo to one's review (multipart, field ``image``); it shows once processed."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]
    serializer_class = PhotoUploadSerializer

    @extend_schema(request={"multipart/form-data": PhotoUploadSerializer}, responses={201: None})
    def post(self, request: Request, review_id: int) -> Response:
        serializer = PhotoUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["image"]
        photo = call(lambda: services.review_photo_add(review_id=review_id, author=request.user, upload=upload))
        return Response({"id": photo.pk, "status": photo.status}, status=status.HTTP_201_CREATED)
