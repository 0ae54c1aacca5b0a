"""The accounts endpoints of API.md: register, JWT token pair and refresh, the buyer's addresses."""

from __future__ import annotations

from django.contrib.auth import user_logged_in
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework_simplejwt import views as jwt_views

from shop.core import ratelimit
from shop.core.api import RateLimited

from . import selectors, services
from .serializers import (
    AddressSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    TokenRefreshSerializer,
    UserSerializer,
)


def _invalid(exc: DjangoValidationError) -> ValidationError:
    """A service's ValidationError as DRF's, so the handler answers 400 with ``fields``."""
    return ValidationError(as_serializer_error(exc))


class RegisterApi(generics.GenericAPIView):
    """Create a buyer account; a link to confirm the email address is mailed to it."""

    # No authentication: a stale session cookie (and its CSRF check) must not block signing up.
    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = RegisterSerializer

    @extend_schema(responses={201: UserSerializer})
    def post(self, request):
        if ratelimit.hit(request, "register", key="ip"):
            raise RateLimited("Too many sign-ups from your network. Wait a while and try again.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = services.user_register(**serializer.validated_data)
        except DjangoValidationError as exc:
            raise _invalid(exc) from None
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainPairApi(jwt_views.TokenObtainPairView):
    """Log in: a short-lived access token and a refresh token. A guest cart cookie sent along is
    merged into the buyer's cart. Failed attempts are limited per account and per client."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = TokenPairSerializer

    @extend_schema(
        responses={
            200: inline_serializer(
                "TokenPairResponse", {"access": serializers.CharField(), "refresh": serializers.CharField()}
            )
        }
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The session log-in's signal, so that its receivers (the cart merges the guest cart,
        # Django records last_login) run before the client has its tokens. Receivers written for
        # pages read cookies from Django's HttpRequest, not from DRF's wrapper.
        user_logged_in.send(sender=serializer.user.__class__, request=request._request, user=serializer.user)
        return Response(serializer.validated_data, status=status.HTTP_200_OK)


class TokenRefreshApi(jwt_views.TokenRefreshView):
    """A new access token for a refresh token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = TokenRefreshSerializer


class AddressListApi(generics.ListCreateAPIView):
    serializer_class = AddressSerializer

    def get_queryset(self):
        return selectors.address_list_for_user(user=self.request.user)

    def perform_create(self, serializer):
        try:
            serializer.instance = services.address_create(user=self.request.user, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise _invalid(exc) from None


class AddressDetailApi(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = AddressSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        # only the buyer's own: another buyer's address answers 404, not 403
        return selectors.address_list_for_user(user=self.request.user)

    def perform_update(self, serializer):
        try:
            serializer.instance = services.address_update(address=serializer.instance, data=serializer.validated_data)
        except DjangoValidationError as exc:
            raise _invalid(exc) from None

    def perform_destroy(self, instance):
        services.address_delete(address=instance)
