"""Huge result sets are ranked over their most popular matches (and the sponsored ones), read along
the popularity index; the index is built from the same expression the ranking uses."""

import importlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from search.backends import postgres
from search.models import SearchDocument
from search.tests.conftest import slugs

pytestmark = [pytest.mark.django_db, pytest.mark.urls("search.tests.urls")]


def test_popularity_index_matches_the_ranking_expression():
    migration = importlib.import_module("search.migrations.0003_popularity_index")
    assert postgres.popularity_sql(postgres.DEFAULT_RANKING) == migration.POPULARITY
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'search_doc_popularity_idx'")
        (definition,) = cursor.fetchone()
    assert "sales_velocity" in definition
    assert "seller_rating" in definition


def test_browsing_a_huge_result_set_ranks_the_most_popular_and_the_sponsored(shelf, search_api, monkeypatch):
    monkeypatch.setattr(postgres, "COUNT_CAP", 2)
    monkeypatch.setattr(postgres, "RANK_WINDOW", 2)
    SearchDocument.objects.filter(product_id=shelf["green-tea"].pk).update(sales_velocity=20)
    SearchDocument.objects.filter(product_id=shelf["phone-charger"].pk).update(views=5_000)
    # the least popular of all, but sponsored: it is ranked with the window and its factor lifts it
    SearchDocument.objects.filter(product_id=shelf["apple-phone-case"].pk).update(
        sponsored_until=timezone.now() + timedelta(days=1), sales_velocity=20
    )
    body = search_api(page_size=2)
    assert body["count_is_capped"] is True
    assert slugs(body) == ["apple-phone-case", "green-tea"]
    # the page after the window: the window grows with the page asked for
    assert slugs(search_api(page_size=2, page=2)) == ["phone-charger", "orange-juice"]


def test_small_result_sets_are_ranked_whole(shelf, search_api):
    SearchDocument.objects.filter(product_id=shelf["phone-charger"].pk).update(sales_velocity=1_000)
    # "juice" in the charger's description only: a better-selling product does not beat title matches
    assert slugs(search_api(q="juice"))[-1] == "phone-charger"


def test_a_huge_relaxed_result_set_keeps_the_products_matching_more_and_rarer_words_first(
    audio, search_api, monkeypatch
):
    monkeypatch.setattr(postgres, "COUNT_CAP", 2)
    monkeypatch.setattr(postgres, "RANK_WINDOW", 1)
    # the most popular products are Nordic lamps; the window still holds the best of every word
    SearchDocument.objects.filter(title__endswith="Lamp").update(sales_velocity=50)
    body = search_api(q="nordic headphones", page_size=2)
    assert body["relaxed"] is True
    assert slugs(body)[0] == "nordic-studio-headphone"  # both words
    assert slugs(body)[1].endswith("-wireless-headphone")  # the rarer word, though less popular
