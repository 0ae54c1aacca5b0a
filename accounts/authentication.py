"""Bearer-token authentication for the API (REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"])."""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework import exceptions
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as SimpleJWTAuthenticationFailed


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's, with its errors as plain sentences.

    simplejwt raises errors whose detail is a dict (``{"detail", "code", "messages"}``); the API's
    error format wants one human sentence in ``detail``, so the dict is reduced to its sentence.
    """

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except SimpleJWTAuthenticationFailed as exc:
            detail = (
                exc.detail.get("detail", "The access token is not valid.")
                if isinstance(exc.detail, dict)
                else exc.detail
            )
            code = exc.detail.get("code") if isinstance(exc.detail, dict) else None
            raise exceptions.AuthenticationFailed(str(detail), code=str(code) if code else None) from None


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI description of simplejwt's scheme, for this subclass too (drf-spectacular matches
    authenticators by exact class)."""

    target_class = JWTAuthentication
