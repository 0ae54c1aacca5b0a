"""Ratings from the reviews app's events reach the search documents, and the seller's rating lifts
its products a little in the ranking."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from search import services
from search.handlers import PRODUCT_RATING_CHANGED, SELLER_RATING_CHANGED
from search.models import SearchDocument, SellerRating
from search.tests.conftest import slugs
from search.tests.factories import listed_product
from sellers.tests.factories import SellerFactory
from shop.core.events import publish

pytestmark = [pytest.mark.django_db, pytest.mark.urls("search.tests.urls")]


@pytest.fixture
def relayed(django_capture_on_commit_callbacks):
    """Publish an event and relay it (the outbox's on-commit delivery, run eagerly in tests)."""

    def publish_and_relay(name: str, payload: dict) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            publish(name, payload)

    return publish_and_relay


def _document(product) -> SearchDocument:
    return SearchDocument.objects.get(product_id=product.pk)


def test_product_rating_event_updates_its_document_and_the_rating_filter(shelf, relayed, search_api):
    relayed(PRODUCT_RATING_CHANGED, {"product_id": shelf["green-tea"].pk, "average": "4.60", "count": 12})
    document = _document(shelf["green-tea"])
    assert (document.rating, document.rating_count) == (Decimal("4.60"), 12)
    assert slugs(search_api(min_rating="4.5")) == ["green-tea"]
    assert search_api(q="green tea")["results"][0]["rating"] == "4.60"


def test_seller_rating_event_updates_every_document_of_the_seller(db, relayed):
    seller, other = SellerFactory(), SellerFactory()
    mine = [listed_product(f"Mine {i}", seller=seller) for i in range(3)]
    theirs = listed_product("Theirs", seller=other)
    services.documents_rebuild_all()
    relayed(
        SELLER_RATING_CHANGED,
        {"seller_id": seller.pk, "rating": "4.75", "review_count": 40, "fulfilment_days": 1.5},
    )
    assert {_document(p).seller_rating for p in mine} == {Decimal("4.75")}
    assert _document(theirs).seller_rating == 0
    stored = SellerRating.objects.get(seller_id=seller.pk)
    assert (stored.review_count, stored.fulfilment_days) == (40, 1.5)


def test_documents_written_after_the_events_start_from_the_ratings(db, relayed):
    seller = SellerFactory()
    relayed(
        SELLER_RATING_CHANGED, {"seller_id": seller.pk, "rating": "4.20", "review_count": 5, "fulfilment_days": None}
    )
    product = listed_product("Late Arrival", seller=seller)
    relayed(PRODUCT_RATING_CHANGED, {"product_id": product.pk, "average": "3.90", "count": 2})  # not indexed yet
    services.document_rebuild(product_id=product.pk)
    document = _document(product)
    assert (document.rating, document.rating_count, document.seller_rating) == (Decimal("3.90"), 2, Decimal("4.20"))


def test_an_older_rating_arriving_late_is_ignored(shelf):
    now = timezone.now()
    product_id = shelf["green-tea"].pk
    assert services.product_rating_apply(product_id=product_id, average=Decimal("4.00"), count=9, as_of=now)
    late = services.product_rating_apply(
        product_id=product_id, average=Decimal("2.00"), count=3, as_of=now - timedelta(seconds=5)
    )
    assert late is False
    assert (_document(shelf["green-tea"]).rating, _document(shelf["green-tea"]).rating_count) == (Decimal("4.00"), 9)


def test_ratings_withdrawn_to_none_count_as_unrated(shelf, relayed):
    relayed(PRODUCT_RATING_CHANGED, {"product_id": shelf["green-tea"].pk, "average": "4.00", "count": 1})
    relayed(PRODUCT_RATING_CHANGED, {"product_id": shelf["green-tea"].pk, "average": None, "count": 0})
    assert (_document(shelf["green-tea"]).rating, _document(shelf["green-tea"]).rating_count) == (0, 0)
    seller_id = shelf["green-tea"].seller_id
    relayed(SELLER_RATING_CHANGED, {"seller_id": seller_id, "rating": None, "review_count": 0, "fulfilment_days": None})
    assert _document(shelf["green-tea"]).seller_rating == 0


def test_out_of_range_ratings_are_clamped(shelf, relayed):
    relayed(PRODUCT_RATING_CHANGED, {"product_id": shelf["green-tea"].pk, "average": "7.5", "count": 1})
    assert _document(shelf["green-tea"]).rating == Decimal("5.00")


def test_seller_rating_lifts_its_products_among_equal_matches(db, relayed, search_api, settings):
    good, plain = SellerFactory(), SellerFactory()
    listed_product("Ceramic Teapot Blue", seller=good)
    listed_product("Ceramic Teapot Green", seller=plain)
    services.documents_rebuild_all()
    # equal matches, no ratings: the newer product id first
    assert slugs(search_api(q="ceramic teapot")) == ["ceramic-teapot-green", "ceramic-teapot-blue"]
    relayed(SELLER_RATING_CHANGED, {"seller_id": good.pk, "rating": "4.80", "review_count": 80, "fulfilment_days": 1})
    assert slugs(search_api(q="ceramic teapot")) == ["ceramic-teapot-blue", "ceramic-teapot-green"]
    # a small boost: the well-rated seller's product that mentions a ceramic teapot only in its
    # description stays below the title matches
    listed_product("Stoneware Jug", seller=good, description="Goes with our ceramic teapot.")
    services.documents_rebuild_all()
    assert slugs(search_api(q="ceramic teapot"))[-1] == "stoneware-jug"
    # with no weight, the seller's rating does not count
    settings.SEARCH_RANKING = {**settings.SEARCH_RANKING, "seller_rating": 0}
    assert slugs(search_api(q="ceramic teapot"))[:2] == ["ceramic-teapot-green", "ceramic-teapot-blue"]
