"""Every API error, whoever raises it, comes out in API.md's format: {"error", "detail"[, "fields"]}."""

import json

import pytest
from django.test import Client
from django.urls import include, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

pytestmark = pytest.mark.django_db


@api_view(["GET"])
@permission_classes([AllowAny])
def broken(request):
    raise RuntimeError("a bug")


@api_view(["POST"])
@permission_classes([AllowAny])
def echo(request):
    return Response(request.data)


urlpatterns = [
    path("api/v1/test/", include([path("broken/", broken), path("echo/", echo)])),
    path("", include("shop.urls")),
]
handler404 = "shop.core.views.not_found"
handler500 = "shop.core.views.server_error"


@pytest.fixture
def api(settings):
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


def assert_error(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]


def test_unknown_api_url_is_json_404(api):
    assert_error(api.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_wrong_method_is_json_405(api):
    assert_error(api.get("/api/v1/test/echo/"), 405, "method_not_allowed")


def test_wrong_content_type_is_json_415(api):
    assert_error(api.post("/api/v1/test/echo/", "a=1", content_type="text/plain"), 415, "unsupported_media_type")


def test_malformed_json_is_json_400(api):
    assert_error(api.post("/api/v1/test/echo/", "{not json", content_type="application/json"), 400, "invalid")


def test_body_over_the_size_limit_is_json_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"x": "a" * 4096})
    assert_error(api.post("/api/v1/test/echo/", body, content_type="application/json"), 413, "too_large")


def test_server_error_in_an_api_view_is_json_500(api):
    assert_error(api.get("/api/v1/test/broken/"), 500, "server_error")


def test_unknown_page_is_an_html_404(api):
    response = api.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_schema_and_docs_are_served_without_external_resources(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/auth/token/" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html
