"""Health check, media files from local storage, and the error pages: HTML in the storefront's layout,
JSON in API.md's format under /api/."""

from __future__ import annotations

import logging
import time

from celery import current_app
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.static import serve
from django_redis import get_redis_connection

from shop.core.api import error_body

logger = logging.getLogger(__name__)


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        logger.warning("healthz: %s failed: %r", check.__name__, exc)
        return {"status": "down", "error": exc.__class__.__name__}
    return {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    get_redis_connection("default").ping()


def _broker() -> None:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Each dependency one by one. 503 only when the database is down: without Redis or the broker
    the shop still serves pages and takes orders (degraded)."""
    checks = {"database": _timed(_database), "redis": _timed(_redis), "broker": _timed(_broker)}
    if checks["database"]["status"] != "ok":
        overall, code = "down", 503
    elif any(check["status"] != "ok" for check in checks.values()):
        overall, code = "degraded", 200
    else:
        overall, code = "ok", 200
    return JsonResponse({"status": overall, "checks": checks}, status=code)


# Renditions are stored under names that carry a hash of their image (catalog.images): a changed image
# gets a new URL, so browsers and CDNs may keep these a year without asking again.
IMMUTABLE_MEDIA_PREFIXES = ("products/r/",)
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
# Other media (seller logos, uploaded originals) keep their names when replaced: an hour at most.
MEDIA_CACHE_CONTROL = "public, max-age=3600"


def media(request: HttpRequest, path: str) -> HttpResponse:
    """A file of the local media storage (``var/media`` by default), for ``/media/<path>``.

    With local storage the shop serves its own media (behind a CDN in production); with S3
    (``MEDIA_STORAGE=s3``) media URLs point at the bucket or its CDN and this answers 404. Paths are
    confined to the storage's directory by ``django.views.static.serve``, which also answers
    If-Modified-Since with 304.
    """
    if not isinstance(default_storage, FileSystemStorage):
        raise Http404("Media are not served from here.")
    response = serve(request, path, document_root=default_storage.location)
    immutable = path.startswith(IMMUTABLE_MEDIA_PREFIXES)
    response["Cache-Control"] = IMMUTABLE_CACHE_CONTROL if immutable else MEDIA_CACHE_CONTROL
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _error(request: HttpRequest, status: int, code: str, detail: str, template: str) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(code, detail), status=status)
    return render(request, template, {"status": status, "detail": detail}, status=status)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    detail = "The request could not be read (too large, or malformed)."
    return _error(request, 400, "invalid", detail, "errors/400.html")


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 403, "forbidden", "You do not have permission to do that.", "errors/403.html")


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 404, "not_found", "Nothing was found at this address.", "errors/404.html")


def server_error(request: HttpRequest) -> HttpResponse:
    # Kept free of anything that could fail again (no database, no context processors).
    if _is_api(request):
        return JsonResponse(error_body("server_error", "Something went wrong on our side. Try again."), status=500)
    from django.template import loader

    return HttpResponse(loader.get_template("errors/500.html").render(), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    detail = "The form had expired or came from another site. Reload the page and try again."
    return _error(request, 403, "forbidden", detail, "errors/403_csrf.html")
