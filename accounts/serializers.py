"""Serializers of the accounts API: types and lengths only; the rules live in accounts.services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import exceptions, serializers
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.exceptions import TokenError

from shop.core.api import RateLimited

from . import services
from .forms import PASSWORD_MAX_LENGTH
from .models import Address

# A signed JWT is a few hundred characters; anything far longer is not one.
TOKEN_MAX_LENGTH = 2048


class StrictStringMixin:
    """DRF's CharField turns numbers into strings; a client that sends ``"email": 123`` has a bug
    worth telling it about, so only JSON strings pass."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    default_error_messages = {"not_a_string": "Must be a string."}


class StrictEmailField(StrictStringMixin, serializers.EmailField):
    default_error_messages = {"not_a_string": "Must be a string."}


def password_field() -> StrictCharField:
    return StrictCharField(
        max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )


class RegisterSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    password = password_field()


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)


class TokenPairSerializer(jwt_serializers.TokenObtainPairSerializer):
    """simplejwt's pair serializer with the shop's log-in rules: strict input, failures counted and
    limited (services.user_authenticate), one error message for any wrong credentials."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"] = StrictCharField(max_length=254, write_only=True)
        self.fields["password"] = password_field()

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        request = self.context["request"]
        try:
            self.user = services.user_authenticate(
                request=request._request, email=attrs["email"], password=attrs["password"]
            )
        except services.LoginBlocked as exc:
            raise RateLimited(str(exc)) from None
        except services.InvalidCredentials as exc:
            raise exceptions.AuthenticationFailed(str(exc), code="invalid_credentials") from None
        refresh = self.get_token(self.user)
        # no update_last_login here, unlike simplejwt: the view sends user_logged_in, which records it
        return {"refresh": str(refresh), "access": str(refresh.access_token)}


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    refresh = StrictCharField(max_length=TOKEN_MAX_LENGTH)

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            return super().validate(attrs)
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(str(exc), code="token_not_valid") from None
        except ObjectDoesNotExist:
            # simplejwt looks the user up without catching a deleted account
            raise exceptions.AuthenticationFailed("The account no longer exists.", code="user_not_found") from None


class AddressSerializer(serializers.ModelSerializer):
    full_name = StrictCharField(max_length=150)
    line1 = StrictCharField(max_length=200)
    line2 = StrictCharField(max_length=200, required=False, allow_blank=True)
    city = StrictCharField(max_length=100)
    postal_code = StrictCharField(max_length=20)
    country = StrictCharField(min_length=2, max_length=2, help_text="ISO 3166-1 alpha-2 code, such as DE or FR.")
    phone = StrictCharField(max_length=32, required=False, allow_blank=True)
    is_default = serializers.BooleanField(required=False)

    class Meta:
        model = Address
        fields = ["id", "full_name", "line1", "line2", "city", "postal_code", "country", "phone", "is_default"]
        read_only_fields = ["id"]
