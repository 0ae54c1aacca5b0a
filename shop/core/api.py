"""The API's conventions (API.md): one error format everywhere, and page-number pagination.

Every error is ``{"error": "<code>", "detail": "<sentence>"}``, with ``"fields": {name: [messages]}``
for validation errors. DRF's exceptions come through ``exception_handler``; errors raised outside
DRF (unknown URL, oversized body, server error) through the JSON branches of ``shop.core.views``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination as DRFPageNumberPagination
from rest_framework.response import Response

# DRF's exception classes to the codes of API.md.
_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ValidationError, "invalid"),
    (exceptions.ParseError, "invalid"),
    (exceptions.NotAuthenticated, "unauthorized"),
    (exceptions.AuthenticationFailed, "unauthorized"),
    (exceptions.PermissionDenied, "forbidden"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "rate_limited"),
]


class ApiError(exceptions.APIException):
    """An error with one of API.md's codes. Subclasses name the status and code."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_detail = "The request is not valid."

    def __init__(self, detail: str | None = None, *, code: str | None = None, extra: dict | None = None):
        super().__init__(detail or self.default_detail, code or self.default_code)
        self.error_code = code or self.default_code
        self.extra = extra or {}


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "That is not possible in the object's current state."


class RateLimited(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"
    default_detail = "Too many requests. Wait a minute and try again."


class PayloadTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The request body is too large."


class ServiceUnavailable(ApiError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"
    default_detail = "This service is unavailable right now. Try again in a moment."


def error_body(code: str, detail: str, fields: dict | None = None, **extra) -> dict:
    body = {"error": code, "detail": detail}
    if fields:
        body["fields"] = fields
    body.update(extra)
    return body


def _flatten(detail) -> dict[str, list[str]]:
    """DRF's nested validation detail as ``{field: [messages]}``; nested fields get dotted names."""
    fields: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for index, sub in enumerate(value):
                walk(f"{prefix}.{index}" if prefix else str(index), sub)
        else:
            messages = value if isinstance(value, list) else [value]
            fields.setdefault(prefix or "non_field_errors", []).extend(str(m) for m in messages)

    walk("", detail)
    return fields


def exception_handler(exc, context) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request could not be read.")
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 handler answers in the API's format (shop.core.views)

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, ApiError):
        body = error_body(exc.error_code, str(exc.detail), **exc.extra)
    elif isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        body = error_body("invalid", "Some fields are not valid: " + ", ".join(sorted(fields)) + ".", fields)
    else:
        code = next((code for cls, code in _CODES if isinstance(exc, cls)), "error")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        body = error_body(code, detail)
    return Response(body, status=exc.status_code, headers=headers)


class PageNumberPagination(DRFPageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param) or 1
        try:
            number = int(raw)
        except (TypeError, ValueError):
            raise exceptions.ValidationError({"page": ["A page number is a positive whole number."]}) from None
        if number < 1 or number > 10_000:
            raise exceptions.ValidationError({"page": ["A page number is between 1 and 10000."]})
        return number
