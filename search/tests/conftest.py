from __future__ import annotations

import pytest

from search import services
from search.tests.factories import category, listed_product


@pytest.fixture
def shelf(db):
    """A small indexed catalogue: drinks under food, phones under electronics, one sold-out product."""
    category("food", "Food")
    category("food/drinks", "Drinks")
    category("food/drinks/juice", "Juice")
    category("electronics", "Electronics")
    category("electronics/phones", "Phones")
    products = {
        "apple-juice": listed_product(
            "Apple Juice",
            category_path="food/drinks/juice",
            brand="Orchard",
            price="3.50",
            description="Pressed from ripe apples.",
        ),
        "orange-juice": listed_product(
            "Orange Juice",
            category_path="food/drinks/juice",
            brand="Orchard",
            price="4.00",
            on_hand=0,
        ),
        "green-tea": listed_product("Green Tea", category_path="food/drinks", brand="Leafy", price="8.00"),
        "apple-phone-case": listed_product(
            "Apple Phone Case", category_path="electronics/phones", brand="Casey", price="25.00"
        ),
        "phone-charger": listed_product(
            "Phone Charger",
            category_path="electronics",
            brand="Volt",
            price="150.00",
            description="Charges a phone; no juice left behind.",
        ),
    }
    services.documents_rebuild_all()
    return products


@pytest.fixture
def audio(db):
    """Headphones of several brands, Nordic products of other kinds: "nordic headphones" has one
    product with both words, three with the rarer word only, five with the commoner one only."""
    category("audio/headphones", "Headphones")
    category("home/lamps", "Lamps")
    listed_product("Nordic Studio Headphone", category_path="audio/headphones", brand="Nordic")
    for brand in ("Zenith", "Aurora", "Summit"):
        listed_product(f"{brand} Wireless Headphone", category_path="audio/headphones", brand=brand)
    for kind in ("Desk", "Floor", "Wall", "Table", "Ceiling"):
        listed_product(f"Nordic {kind} Lamp", category_path="home/lamps", brand="Nordic")
    services.documents_rebuild_all()


@pytest.fixture
def search_api(api_client):
    """GET /api/v1/search/ with these parameters; the JSON body (asserting a 200)."""

    def search(**params):
        response = api_client.get("/api/v1/search/", params)
        assert response.status_code == 200, response.content
        return response.json()

    return search


def slugs(body: dict) -> list[str]:
    return [hit["slug"] for hit in body["results"]]
