"""The reviews API of API.md: shapes, status codes and the error format."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from accounts.tests.factories import UserFactory
from orders.tests.factories import delivered_order_for
from reviews import services
from reviews.models import Review, ReviewPhoto
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    return UserFactory(full_name="Grace Hopper")


def _client(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def _url(product) -> str:
    return f"/api/v1/products/{product.slug}/reviews/"


def test_a_buyer_who_received_it_writes_a_verified_review(api_client, product, buyer):
    delivered_order_for(buyer=buyer, variant=product.variants.get())
    response = _client(api_client, buyer).post(
        _url(product), {"rating": 5, "title": "Superb", "body": "Works."}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in ("rating", "title", "body", "verified_purchase", "helpful_count")} == {
        "rating": 5, "title": "Superb", "body": "Works.", "verified_purchase": True, "helpful_count": 0,
    }  # fmt: skip
    assert body["id"] == Review.objects.get().pk
    assert body["author_name"] == "Grace H."
    assert body["status"] == "published"


def test_a_second_review_is_a_conflict(api_client, product, buyer):
    client = _client(api_client, buyer)
    client.post(_url(product), {"rating": 5}, format="json")
    response = client.post(_url(product), {"rating": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({}, "rating"),
        ({"rating": 4, "body": "x" * 1_000_000}, "body"),  # a 1 MB body
    ],
)
def test_bad_input_is_a_400_in_the_error_format(api_client, product, buyer, payload, field):
    response = _client(api_client, buyer).post(_url(product), payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert field in response.json()["fields"]
    assert not Review.objects.exists()


def test_a_body_that_is_not_json_is_refused(api_client, product, buyer):
    response = _client(api_client, buyer).post(_url(product), "rating=5", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    broken = _client(api_client, buyer).post(_url(product), "{rating: 5", content_type="application/json")
    assert (broken.status_code, broken.json()["error"]) == (400, "invalid")


def test_html_is_stored_as_text(api_client, product, buyer):
    body = '<script>alert("x")</script><b>bold</b>'
    response = _client(api_client, buyer).post(_url(product), {"rating": 3, "body": body}, format="json")
    assert response.json()["body"] == body
    assert Review.objects.get().body == body


def test_writing_needs_a_user_and_a_listed_product(api_client, product, buyer):
    assert api_client.post(_url(product), {"rating": 5}, format="json").status_code == 401
    client = _client(api_client, buyer)
    assert client.post("/api/v1/products/no-such-thing/reviews/", {"rating": 5}, format="json").status_code == 404
    own = _client(api_client, product.seller.user).post(_url(product), {"rating": 5}, format="json")
    assert (own.status_code, own.json()["error"]) == (403, "forbidden")


def test_review_creation_is_rate_limited(api_client, settings, buyer):
    from catalog.tests.factories import ProductFactory

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "review_create": "2/h"}
    client = _client(api_client, buyer)
    statuses = [client.post(_url(ProductFactory()), {"rating": 4}, format="json").status_code for _ in range(3)]
    assert statuses == [201, 201, 429]


def test_the_list_is_public_paginated_and_shows_only_published_reviews(api_client, product):
    users = [UserFactory() for _ in range(3)]
    for user in users:
        services.review_create(user=user, product=product, rating=4, body="Fine.")
    services.review_create(user=UserFactory(), product=product, rating=1, body="visit www.example.org")

    body = api_client.get(_url(product), {"page_size": 2}).json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert api_client.get(_url(product), {"page": 2, "page_size": 2}).json()["results"][0]["rating"] == 4


def test_the_author_edits_and_deletes_others_get_404(api_client, product, buyer):
    review = services.review_create(user=buyer, product=product, rating=5)
    stranger = _client(api_client, UserFactory())
    assert stranger.patch(f"/api/v1/reviews/{review.pk}/", {"rating": 1}, format="json").status_code == 404
    assert stranger.delete(f"/api/v1/reviews/{review.pk}/").status_code == 404

    author = _client(api_client, buyer)
    response = author.patch(f"/api/v1/reviews/{review.pk}/", {"rating": 2, "title": "Changed my mind"}, format="json")
    assert (response.status_code, response.json()["rating"], response.json()["edited"]) == (200, 2, True)
    assert author.patch(f"/api/v1/reviews/{review.pk}/", {"rating": 6}, format="json").status_code == 400
    assert author.delete(f"/api/v1/reviews/{review.pk}/").status_code == 204
    assert not Review.objects.exists()


def test_helpful_once_per_user(api_client, product, buyer):
    review = services.review_create(user=buyer, product=product, rating=5)
    voter = _client(api_client, UserFactory())
    first = voter.post(f"/api/v1/reviews/{review.pk}/helpful/")
    assert (first.status_code, first.json()["helpful_count"]) == (201, 1)
    assert voter.post(f"/api/v1/reviews/{review.pk}/helpful/").status_code == 409
    assert voter.post("/api/v1/reviews/999999/helpful/").status_code == 404


def test_report_with_a_reason_once_per_user(api_client, product, buyer):
    review = services.review_create(user=buyer, product=product, rating=5)
    reporter = _client(api_client, UserFactory())
    assert reporter.post(f"/api/v1/reviews/{review.pk}/report/", {}, format="json").status_code == 400
    assert reporter.post(f"/api/v1/reviews/{review.pk}/report/", {"reason": "Fake"}, format="json").status_code == 201
    second = reporter.post(f"/api/v1/reviews/{review.pk}/report/", {"reason": "Fake"}, format="json")
    assert (second.status_code, second.json()["error"]) == (409, "conflict")


def _png(size=(200, 150)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "photo.png"
    return buffer


def test_a_photo_goes_through_the_image_pipeline(api_client, product, buyer, django_capture_on_commit_callbacks):
    review = services.review_create(user=buyer, product=product, rating=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(api_client, buyer).post(
            f"/api/v1/reviews/{review.pk}/photos/", {"image": _png()}, format="multipart"
        )

    assert response.status_code == 201
    photo = ReviewPhoto.objects.get()
    assert photo.status == ReviewPhoto.Status.READY
    assert {"thumbnail", "medium", "large"} <= photo.renditions.keys()
    shown = api_client.get(_url(product)).json()["results"][0]["photos"]
    assert len(shown) == 1
    assert shown[0]["url"].endswith(".jpg")


def test_a_file_that_is_not_an_image_is_refused(api_client, product, buyer):
    review = services.review_create(user=buyer, product=product, rating=5)
    fake = io.BytesIO(b"%PDF-1.4 not an image at all" * 10)
    fake.name = "photo.png"
    url = f"/api/v1/reviews/{review.pk}/photos/"
    response = _client(api_client, buyer).post(url, {"image": fake}, format="multipart")
    assert response.status_code == 400
    assert "image" in response.json()["fields"]
    tiny = _client(api_client, buyer).post(
        f"/api/v1/reviews/{review.pk}/photos/", {"image": _png((20, 20))}, format="multipart"
    )
    assert tiny.status_code == 400
    assert not ReviewPhoto.objects.exists()


def test_the_seller_replies_once_through_the_seller_api(api_client, product, buyer):
    review = services.review_create(user=buyer, product=product, rating=2)
    url = f"/api/v1/seller/reviews/{review.pk}/reply/"
    other_seller = _client(api_client, SellerFactory().user)
    assert other_seller.post(url, {"body": "Hi"}, format="json").status_code == 404

    seller = _client(api_client, product.seller.user)
    response = seller.post(url, {"body": "Sorry to hear that; we sent a replacement."}, format="json")
    assert response.status_code == 201
    assert response.json()["review_id"] == review.pk
    assert seller.post(url, {"body": "Again"}, format="json").status_code == 409
    assert _client(api_client, buyer).post(url, {"body": "me"}, format="json").status_code == 403
    shown = api_client.get(_url(product)).json()["results"][0]["reply"]
    assert shown["body"] == "Sorry to hear that; we sent a replacement."
