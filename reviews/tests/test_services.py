"""Reviews through the services: one per buyer per product, verified purchases, moderation, votes,
reports, replies, and the product rating exact after every kind of change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from orders.models import SubOrder
from orders.tests.factories import delivered_order_for, order_for
from reviews import events, services
from reviews.models import ProductRating, Review, SellerRating
from reviews.tests.conftest import stored
from reviews.tests.factories import ReviewFactory
from sellers.models import Seller
from sellers.tests.factories import SellerFactory
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


def _hist(**counts: int) -> dict[int, int]:
    return {stars: counts.get(f"s{stars}", 0) for stars in range(1, 6)}


# --- one per buyer, verified purchase ---------------------------------------------------------------


def test_a_buyer_reviews_a_product_once(product, buyers):
    services.review_create(user=buyers[0], product=product, rating=5, title="Great", body="Love it.")

    with pytest.raises(services.ReviewConflict):
        services.review_create(user=buyers[0], product=product, rating=1, title="Again")

    assert Review.objects.filter(product=product, user=buyers[0]).count() == 1
    assert stored(product.pk) == (1, _hist(s5=1), "5.00")


def test_the_database_refuses_a_second_review_even_past_the_services(product, buyers):
    ReviewFactory(product=product, user=buyers[0])
    with pytest.raises(IntegrityError):
        ReviewFactory(product=product, user=buyers[0])


@pytest.mark.parametrize("rating", [0, 6, -1, 3.5, "5", True, None])
def test_a_rating_is_a_whole_number_from_one_to_five(product, buyers, rating):
    with pytest.raises(ValidationError) as caught:
        services.review_create(user=buyers[0], product=product, rating=rating)
    assert "rating" in caught.value.message_dict
    assert not Review.objects.exists()


def test_the_database_refuses_a_rating_outside_one_to_five(product, buyers):
    with pytest.raises(IntegrityError):
        ReviewFactory(product=product, user=buyers[0], rating=6)


def test_long_texts_and_nul_characters_are_refused(product, buyers):
    with pytest.raises(ValidationError) as caught:
        services.review_create(user=buyers[0], product=product, rating=4, title="t" * 121, body="b" * 5001)
    assert set(caught.value.message_dict) == {"title", "body"}
    with pytest.raises(ValidationError):
        services.review_create(user=buyers[0], product=product, rating=4, body="nul \x00 byte")


def test_verified_only_once_the_order_is_delivered(product, buyers):
    variant = product.variants.get()
    order_for(buyer=buyers[0], variant=variant, status=SubOrder.Status.SHIPPED)
    shipped_only = services.review_create(user=buyers[0], product=product, rating=4)
    delivered_order_for(buyer=buyers[1], variant=variant)
    delivered = services.review_create(user=buyers[1], product=product, rating=4)
    never_bought = services.review_create(user=buyers[2], product=product, rating=4)

    assert (shipped_only.verified_purchase, delivered.verified_purchase, never_bought.verified_purchase) == (
        False,
        True,
        False,
    )


def test_a_delivery_of_another_product_does_not_verify(product, buyers):
    delivered_order_for(buyer=buyers[0], variant=ProductFactory().variants.get())
    assert not services.review_create(user=buyers[0], product=product, rating=3).verified_purchase


def test_sellers_cannot_review_their_own_products_nor_anyone_unlisted_ones(product, buyers):
    with pytest.raises(services.ReviewNotAllowed):
        services.review_create(user=product.seller.user, product=product, rating=5)
    suspended = ProductFactory(seller=SellerFactory(status=Seller.Status.SUSPENDED))
    with pytest.raises(services.ReviewNotAllowed):
        services.review_create(user=buyers[0], product=suspended, rating=5)


def test_the_author_name_never_shows_the_email(product):
    named = services.review_create(user=UserFactory(full_name="Ada Lovelace King"), product=product, rating=5)
    anonymous = services.review_create(user=UserFactory(full_name=""), product=product, rating=5)
    assert (named.author_name, anonymous.author_name) == ("Ada K.", "A buyer")


# --- aggregates -----------------------------------------------------------------------------------


def test_aggregates_and_histogram_follow_create_edit_delete_hide_restore(product, buyers):
    a = services.review_create(user=buyers[0], product=product, rating=5)
    b = services.review_create(user=buyers[1], product=product, rating=4)
    c = services.review_create(user=buyers[2], product=product, rating=1)
    assert stored(product.pk) == (3, _hist(s5=1, s4=1, s1=1), "3.33")

    services.review_update(review_id=c.pk, author=buyers[2], rating=2)  # edit: 1 star becomes 2
    assert stored(product.pk) == (3, _hist(s5=1, s4=1, s2=1), "3.67")

    services.review_update(review_id=b.pk, author=buyers[1], title="Only the title")  # the stars stay
    assert stored(product.pk) == (3, _hist(s5=1, s4=1, s2=1), "3.67")

    services.review_hide(review_id=a.pk)
    assert stored(product.pk) == (2, _hist(s4=1, s2=1), "3.00")
    services.review_hide(review_id=a.pk)  # twice: nothing more
    assert stored(product.pk) == (2, _hist(s4=1, s2=1), "3.00")

    services.review_update(review_id=a.pk, author=buyers[0], rating=3)  # a hidden review edited stays out
    assert stored(product.pk) == (2, _hist(s4=1, s2=1), "3.00")

    services.review_restore(review_id=a.pk)
    assert stored(product.pk) == (3, _hist(s4=1, s3=1, s2=1), "3.00")

    services.review_delete(review_id=b.pk, author=buyers[1])
    assert stored(product.pk) == (2, _hist(s3=1, s2=1), "2.50")

    services.review_delete(review_id=a.pk, author=buyers[0])
    services.review_delete(review_id=c.pk, author=buyers[2])
    assert stored(product.pk) == (0, _hist(), None)


def test_only_the_author_edits_or_deletes(product, buyers):
    review = services.review_create(user=buyers[0], product=product, rating=5)
    with pytest.raises(Review.DoesNotExist):
        services.review_update(review_id=review.pk, author=buyers[1], rating=1)
    with pytest.raises(Review.DoesNotExist):
        services.review_delete(review_id=review.pk, author=buyers[1])
    assert stored(product.pk) == (1, _hist(s5=1), "5.00")


def test_publishing_a_review_staff_hid_is_a_conflict_restoring_it_is_the_way(product, buyers):
    review = services.review_create(user=buyers[0], product=product, rating=5)
    services.review_hide(review_id=review.pk)
    with pytest.raises(services.ReviewConflict):
        services.review_publish(review_id=review.pk)
    services.review_restore(review_id=review.pk)
    services.review_restore(review_id=review.pk)  # twice (two moderators): counted once
    assert stored(product.pk) == (1, _hist(s5=1), "5.00")


def test_a_histogram_that_does_not_add_up_cannot_be_stored(product):
    with pytest.raises(IntegrityError):
        ProductRating.objects.create(product=product, count=2, total=5, stars_5=1)


def test_each_rating_change_is_announced_for_search_and_pages(product, buyers, django_capture_on_commit_callbacks):
    services.review_create(user=buyers[0], product=product, rating=4)

    rating_event = OutboxEvent.objects.get(name=events.PRODUCT_RATING_CHANGED)
    assert rating_event.payload == {
        "product_id": product.pk,
        "slug": product.slug,
        "seller_id": product.seller_id,
        "average": "4.00",
        "count": 1,
        "histogram": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0},
    }
    assert OutboxEvent.objects.get(name=events.REVIEW_CHANGED).payload["change"] == "created"


# --- moderation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Great deal, order yours at https://cheap.example.com now",
        "visit www.spam-shop.test for more",
        "buy from bestdeals.ru instead",
        "Better than the CASINO",
        "good good good good good good good good good good good good good",
        "!!!!!!!!!!!!!!!!",
    ],
)
def test_obviously_bad_content_is_held_not_published(product, buyers, body):
    review = services.review_create(user=buyers[0], product=product, rating=5, body=body)

    assert review.status == Review.Status.PENDING
    assert review.moderation_reason
    assert stored(product.pk) == (0, _hist(), None)


def test_ordinary_reviews_are_published(product, buyers):
    body = "Fits well. The colour is a little darker than the photo, 3.5 cm wider than my old one."
    assert services.review_create(user=buyers[0], product=product, rating=4, body=body).is_published


def test_banned_words_come_from_the_setting(product, buyers, settings):
    settings.REVIEWS_BANNED_WORDS = ["knockoff"]
    review = services.review_create(user=buyers[0], product=product, rating=1, body="A Knockoff, sadly.")
    assert review.status == Review.Status.PENDING
    assert "knockoff" in review.moderation_reason


def test_publishing_a_held_review_counts_it(product, buyers):
    review = services.review_create(user=buyers[0], product=product, rating=2, body="see www.example.org")
    services.review_publish(review_id=review.pk)
    assert stored(product.pk) == (1, _hist(s2=1), "2.00")


def test_an_edit_that_cleans_a_held_review_publishes_it_and_a_bad_edit_holds_it(product, buyers):
    review = services.review_create(user=buyers[0], product=product, rating=2, body="see www.example.org")
    services.review_update(review_id=review.pk, author=buyers[0], body="Broke after a week.")
    assert stored(product.pk) == (1, _hist(s2=1), "2.00")
    services.review_update(review_id=review.pk, author=buyers[0], body="go to http://elsewhere.example")
    assert stored(product.pk) == (0, _hist(), None)


def test_one_report_per_user_and_the_third_holds_the_review(product, buyers):
    review = services.review_create(user=buyers[0], product=product, rating=1, body="Terrible.")
    services.review_report(review_id=review.pk, user=buyers[1], reason="Rude")
    with pytest.raises(services.ReviewConflict):
        services.review_report(review_id=review.pk, user=buyers[1], reason="Rude again")
    services.review_report(review_id=review.pk, user=buyers[2], reason="Fake")
    assert stored(product.pk)[0] == 1

    services.review_report(review_id=review.pk, user=buyers[3], reason="Spam")

    review.refresh_from_db()
    assert (review.status, review.report_count) == (Review.Status.PENDING, 3)
    assert stored(product.pk) == (0, _hist(), None)
    services.review_update(review_id=review.pk, author=buyers[0], body="Still terrible.")  # stays held
    review.refresh_from_db()
    assert review.status == Review.Status.PENDING


def test_a_report_needs_a_reason(product, buyers):
    review = services.review_create(user=buyers[0], product=product, rating=1)
    with pytest.raises(ValidationError):
        services.review_report(review_id=review.pk, user=buyers[1], reason="  ")


# --- helpful votes --------------------------------------------------------------------------------


def test_one_helpful_vote_per_user_never_for_ones_own(product, buyers):
    review = services.review_create(user=buyers[0], product=product, rating=4)
    assert services.review_vote_helpful(review_id=review.pk, user=buyers[1]).helpful_count == 1
    with pytest.raises(services.ReviewConflict):
        services.review_vote_helpful(review_id=review.pk, user=buyers[1])
    with pytest.raises(services.ReviewNotAllowed):
        services.review_vote_helpful(review_id=review.pk, user=buyers[0])
    assert services.review_vote_helpful(review_id=review.pk, user=buyers[2]).helpful_count == 2


def test_reviews_are_ordered_verified_first_then_helpful_then_newest(product, buyers):
    from reviews import selectors

    delivered_order_for(buyer=buyers[0], variant=product.variants.get())
    verified = services.review_create(user=buyers[0], product=product, rating=3)
    older = services.review_create(user=buyers[1], product=product, rating=4)
    helpful = services.review_create(user=buyers[2], product=product, rating=2)
    newer = services.review_create(user=buyers[3], product=product, rating=5)
    services.review_vote_helpful(review_id=helpful.pk, user=buyers[4])

    page = selectors.product_reviews_page(product_id=product.pk, number=1, page_size=10)

    assert [row["id"] for row in page] == [verified.pk, helpful.pk, newer.pk, older.pk]


# --- seller replies -------------------------------------------------------------------------------


def test_the_seller_replies_once_and_only_to_reviews_of_its_products(product, buyers):
    review = services.review_create(user=buyers[0], product=product, rating=2, body="Slow.")
    with pytest.raises(Review.DoesNotExist):
        services.review_reply_create(review_id=review.pk, seller=SellerFactory(), body="Not mine")

    reply = services.review_reply_create(review_id=review.pk, seller=product.seller, body="Sorry, we are on it.")

    assert reply.review_id == review.pk
    with pytest.raises(services.ReviewConflict):
        services.review_reply_create(review_id=review.pk, seller=product.seller, body="Again")


# --- seller rating --------------------------------------------------------------------------------


def test_the_seller_rating_blends_reviews_and_fulfilment_speed(buyers):
    seller = SellerFactory()
    fast, slow = ProductFactory(seller=seller), ProductFactory(seller=seller)
    for buyer in buyers[:5]:
        services.review_create(user=buyer, product=fast, rating=5)
    services.review_create(user=buyers[5], product=slow, rating=3)
    order_for(buyer=buyers[0], variant=fast.variants.get(), status=SubOrder.Status.SHIPPED, days_to_ship=4)

    rating = services.seller_rating_refresh(seller_id=seller.pk)

    # reviews: (3.5 * 5 + 28) / (5 + 6) = 4.136...; speed: 4 days, 2 late = 4.0; 0.8 * 4.136 + 0.2 * 4
    assert (rating.review_count, rating.review_average, rating.fulfilment_days) == (6, Decimal("4.67"), Decimal("4.00"))
    assert rating.rating == Decimal("4.11")
    event = OutboxEvent.objects.filter(name=events.SELLER_RATING_CHANGED).latest("created_at")
    assert event.payload == {
        "seller_id": seller.pk,
        "rating": "4.11",
        "review_count": 6,
        "review_average": "4.67",
        "fulfilment_days": "4.00",
    }


def test_an_unchanged_seller_rating_is_not_announced_again(product, buyers):
    services.review_create(user=buyers[0], product=product, rating=5)
    services.seller_rating_refresh(seller_id=product.seller_id)
    before = OutboxEvent.objects.filter(name=events.SELLER_RATING_CHANGED).count()
    services.seller_rating_refresh(seller_id=product.seller_id)
    assert OutboxEvent.objects.filter(name=events.SELLER_RATING_CHANGED).count() == before == 1
    assert SellerRating.objects.get(pk=product.seller_id).rating == Decimal("3.75")


def test_a_review_change_refreshes_the_seller_rating_after_commit(product, buyers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.review_create(user=buyers[0], product=product, rating=5)
    assert SellerRating.objects.get(pk=product.seller_id).review_count == 1
