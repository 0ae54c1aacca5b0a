"""Media files from local storage (shop.core.views.media): renditions cached for a year, the rest briefly."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


@pytest.fixture
def stored():
    names = {
        "rendition": default_storage.save("products/r/7/0123abcd-thumbnail.webp", ContentFile(b"RIFF....WEBP")),
        "logo": default_storage.save("sellers/logos/acme.png", ContentFile(b"\x89PNG....")),
    }
    return names


def test_renditions_are_served_as_immutable_for_a_year(client, stored):
    response = client.get(f"/media/{stored['rendition']}")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["Content-Type"] == "image/webp"
    assert b"".join(response.streaming_content) == b"RIFF....WEBP"


def test_other_media_are_cached_briefly(client, stored):
    response = client.get(f"/media/{stored['logo']}")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=3600"


def test_a_conditional_request_is_answered_304(client, stored):
    last_modified = client.get(f"/media/{stored['rendition']}")["Last-Modified"]

    response = client.get(f"/media/{stored['rendition']}", HTTP_IF_MODIFIED_SINCE=last_modified)

    assert response.status_code == 304


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/media/products/r/7/missing.webp", "/media/products/"])
def test_missing_files_are_404(client, stored, path):
    assert client.get(path).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/media/../manage.py", "/media/%2e%2e/manage.py", "/media/products/../../manage.py"])
def test_paths_outside_the_media_directory_are_refused(client, stored, path):
    assert client.get(path).status_code in (400, 404)  # 400: Django's answer to a suspicious path


@pytest.mark.django_db
def test_with_remote_storage_media_are_not_served_from_here(client, stored, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}

    assert client.get(f"/media/{stored['rendition']}").status_code == 404


def test_media_urls_point_at_the_view():
    assert default_storage.url("products/r/1/x.webp") == f"{settings.MEDIA_URL}products/r/1/x.webp"
