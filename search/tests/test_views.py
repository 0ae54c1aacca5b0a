import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("search.tests.urls")]


def test_results_page_shows_cards_facets_sort_and_did_you_mean(shelf, client):
    response = client.get("/search/", {"q": "aple juce"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Apple Juice" in html
    assert "Did you mean <strong>apple juice</strong>" in html
    assert "Orchard" in html  # the brand facet
    assert 'name="sort"' in html
    assert 'name="min_price"' in html


def test_results_page_ticks_the_chosen_brand_and_keeps_the_others_choosable(shelf, client):
    html = client.get("/search/", {"category": "food", "brand": "Leafy"}).content.decode()
    assert "Green Tea" in html
    assert "Apple Juice" not in html
    assert 'aria-checked="true"' in html
    assert "Orchard" in html


def test_results_page_says_when_counts_are_estimated(shelf, client, monkeypatch):
    from search.backends import postgres

    monkeypatch.setattr(postgres, "COUNT_CAP", 2)
    monkeypatch.setattr(postgres, "FACET_SAMPLE", 2)
    html = client.get("/search/").content.decode()
    assert "2+ products" in html
    assert "estimated" in html


def test_results_page_answers_400_for_bad_parameters(shelf, client):
    response = client.get("/search/", {"q": "tea", "min_price": "-3", "page": str(10**9)})
    assert response.status_code == 400
    assert "We could not run that search" in response.content.decode()
