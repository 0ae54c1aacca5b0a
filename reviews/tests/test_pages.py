"""The product page's reviews (cached for everyone, with the visitor's review box live), and the
review pages behind its links."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from inventory.tests.factories import StockFactory
from orders.tests.factories import delivered_order_for
from reviews import services
from reviews.models import Review

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    product = ProductFactory()
    StockFactory(variant=product.variants.get(), on_hand=5)
    return product


def _page(client, product, query: str = "") -> str:
    response = client.get(f"/p/{product.slug}/{query}")
    assert response.status_code == 200
    return response.content.decode()


def _reviews_section(html: str) -> str:
    return html.split('id="reviews"', 1)[1].split("</section>", 1)[0]


def _write(product, count: int, *, verified: int = 0) -> list[Review]:
    reviews = []
    for i in range(count):
        user = UserFactory(full_name=f"Reviewer {i}")
        if i < verified:
            delivered_order_for(buyer=user, variant=product.variants.get())
        reviews.append(services.review_create(user=user, product=product, rating=1 + i % 5, title=f"Title {i}"))
    return reviews


def test_the_page_shows_the_rating_histogram_and_reviews_verified_first(client, product):
    _write(product, 3, verified=1)
    services.review_create(user=UserFactory(), product=product, rating=5, body="see www.example.org")  # held

    section = _reviews_section(_page(client, product))

    assert "2.0 out of 5</strong> · 3 reviews" in section  # 1 + 2 + 3 stars over three reviews
    assert re.findall(r'<progress max="100" value="(\d+)">', section) == ["0", "0", "33", "33", "33"]
    titles = re.findall(r'<strong class="review-title">([^<]*)</strong>', section)
    assert titles[0] == "Title 0"  # the verified purchase first
    assert sorted(titles) == ["Title 0", "Title 1", "Title 2"]  # the held review is not shown
    assert section.count("Verified purchase</span>") == 1


def test_a_product_without_reviews_says_so(client, product):
    assert "No reviews yet" in _reviews_section(_page(client, product))


def test_reviews_are_paginated_and_bad_pages_are_404(client, product):
    _write(product, 12)
    first, second = _reviews_section(_page(client, product)), _reviews_section(_page(client, product, "?reviews=2"))
    assert first.count('class="review card"') == 10
    assert second.count('class="review card"') == 2
    assert 'href="?reviews=2#reviews"' in first
    assert "Page 2 of 2" in second
    for query in ("?reviews=3", "?reviews=0", "?reviews=abc", "?reviews=99999999"):
        assert client.get(f"/p/{product.slug}/{query}").status_code == 404, query


def test_html_a_buyer_writes_is_escaped_on_the_page(client, product):
    services.review_create(
        user=UserFactory(), product=product, rating=2, title="<b>Bold</b>", body='<script>alert("x")</script>'
    )
    section = _reviews_section(_page(client, product))
    assert "<script>alert" not in section
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in section
    assert "&lt;b&gt;Bold&lt;/b&gt;" in section


def test_the_review_box_is_each_visitors_own(product):
    guest, buyer, reviewer, seller = Client(), Client(), Client(), Client()
    buyer.force_login(UserFactory())
    author = UserFactory()
    services.review_create(user=author, product=product, rating=4, body="see www.example.org")  # held
    reviewer.force_login(author)
    seller.force_login(product.seller.user)

    guest_html, buyer_html = _page(guest, product), _page(buyer, product)
    reviewer_html, seller_html = _page(reviewer, product), _page(seller, product)

    assert "Sign in to write a review" in guest_html
    assert 'name="csrfmiddlewaretoken"' not in _reviews_section(guest_html)
    assert f'action="/reviews/p/{product.slug}/new/"' in buyer_html
    assert 'name="csrfmiddlewaretoken"' in _reviews_section(buyer_html)
    assert "You reviewed this product: 4 of 5 stars." in reviewer_html
    assert "Held for moderation" in reviewer_html
    assert "You sell this product" in seller_html
    for html in (guest_html, seller_html, reviewer_html):
        assert "Write a review</h3>" not in html


def test_the_cached_page_changes_once_the_review_event_is_delivered(
    client, product, django_capture_on_commit_callbacks
):
    assert "No reviews yet" in _page(client, product)
    review = services.review_create(user=UserFactory(), product=product, rating=5, title="Lovely")  # not delivered
    assert "No reviews yet" in _page(client, product)  # still the cached page

    with django_capture_on_commit_callbacks(execute=True):
        services.review_update(review_id=review.pk, author=review.user, title="Lovely indeed")

    html = _page(client, product)
    assert "Lovely indeed" in html
    assert "5.0 out of 5" in html


def _cold_queries(client, product) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        _page(client, product)
    return len(queries)


@pytest.mark.parametrize("reviews", [0, 1, 30])
def test_the_product_page_query_count_is_fixed_whatever_the_number_of_reviews(client, product, reviews):
    written = _write(product, reviews, verified=min(reviews, 3))
    for review in written[:5]:  # replies come in the same query as the reviews
        services.review_reply_create(review_id=review.pk, seller=product.seller, body="Thank you!")

    assert _cold_queries(client, product) == PRODUCT_PAGE_QUERIES
    member = Client()
    member.force_login(UserFactory())
    _page(member, product)
    with CaptureQueriesContext(connection) as warm:
        _page(member, product)
    # warm: the session, the user, the visitor's own review (and the stock, when not in Redis)
    assert len(warm) <= SIGNED_IN_WARM_QUERIES


# Cold cache: the tree, the product (with seller, brand, category), its variants, images, its rating,
# a page of reviews (with photos and replies), and the stock.
PRODUCT_PAGE_QUERIES = 7
SIGNED_IN_WARM_QUERIES = 4


def test_the_product_api_rating_comes_from_the_aggregates(api_client, product, django_capture_on_commit_callbacks):
    assert api_client.get(f"/api/v1/products/{product.slug}/").json()["rating"] == {"average": None, "count": 0}
    with django_capture_on_commit_callbacks(execute=True):
        _write(product, 2)  # 1 and 2 stars
    assert api_client.get(f"/api/v1/products/{product.slug}/").json()["rating"] == {"average": "1.50", "count": 2}


# --- the review pages -----------------------------------------------------------------------------


def test_writing_a_review_from_the_page_form(client, product):
    client.force_login(UserFactory())
    response = client.post(f"/reviews/p/{product.slug}/new/", {"rating": "4", "title": "Good", "body": "Nice."})
    assert response.status_code == 302
    assert response["Location"] == f"/p/{product.slug}/#reviews"
    assert Review.objects.get().rating == 4
    again = client.get(f"/reviews/p/{product.slug}/new/")
    assert again.status_code == 302  # to the edit page
    assert again["Location"] == f"/reviews/{Review.objects.get().pk}/edit/"


def test_form_errors_are_shown_next_to_the_field(client, product):
    client.force_login(UserFactory())
    response = client.post(f"/reviews/p/{product.slug}/new/", {"rating": "9", "body": "x" * 5001})
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('class="field-error"') == 2
    assert not Review.objects.exists()


def test_signing_in_is_needed_to_write(client, product):
    response = client.get(f"/reviews/p/{product.slug}/new/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_editing_and_deleting_ones_review_from_the_pages(client, product):
    author = UserFactory()
    review = services.review_create(user=author, product=product, rating=2)
    client.force_login(UserFactory())
    assert client.get(f"/reviews/{review.pk}/edit/").status_code == 404  # not theirs

    client.force_login(author)
    assert client.post(f"/reviews/{review.pk}/edit/", {"rating": "5", "title": "Better now"}).status_code == 302
    review.refresh_from_db()
    assert (review.rating, review.title) == (5, "Better now")
    assert client.post(f"/reviews/{review.pk}/delete/").status_code == 302
    assert not Review.objects.exists()


def test_helpful_and_report_pages(client, product):
    review = services.review_create(user=UserFactory(), product=product, rating=3, body="Okay.")
    client.force_login(UserFactory())
    assert "Was this review helpful?" in client.get(f"/reviews/{review.pk}/helpful/").content.decode()
    assert client.post(f"/reviews/{review.pk}/helpful/").status_code == 302
    assert client.post(f"/reviews/{review.pk}/report/", {"reason": ""}).status_code == 400
    assert client.post(f"/reviews/{review.pk}/report/", {"reason": "Not about this product"}).status_code == 302
    review.refresh_from_db()
    assert (review.helpful_count, review.report_count) == (1, 1)
