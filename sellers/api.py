"""The sellers endpoints of API.md: apply to sell."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from shop.core.api import Conflict

from . import services


class StrictCharField(serializers.CharField):
    """Only JSON strings: ``"store_name": 123`` is a client bug worth reporting, not a store name."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class SellerApplySerializer(serializers.Serializer):
    store_name = StrictCharField(max_length=services.STORE_NAME_MAX_LENGTH)
    description = StrictCharField(max_length=services.DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True)


class SellerApplicationSerializer(serializers.Serializer):
    slug = serializers.CharField()
    store_name = serializers.CharField()
    status = serializers.CharField()


class SellerApplyApi(generics.GenericAPIView):
    """Apply to sell. The application is ``pending`` until staff approve it; one per user (409)."""

    serializer_class = SellerApplySerializer

    @extend_schema(responses={201: SellerApplicationSerializer})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            seller = services.seller_apply(user=request.user, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(as_serializer_error(exc)) from None
        except services.AlreadyApplied as exc:
            raise Conflict(str(exc)) from None
        return Response(SellerApplicationSerializer(seller).data, status=status.HTTP_201_CREATED)
