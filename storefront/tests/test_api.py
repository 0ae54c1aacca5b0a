"""The storefront's read API: GET /api/v1/products/<slug>/ and GET /api/v1/categories/ (shared/API.md)."""

from __future__ import annotations

import pytest

from catalog.models import Category, Product
from sellers.models import Seller
from sellers.tests.factories import SellerFactory
from storefront.tests.conftest import make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone(tree):
    return make_product(
        category=tree["smartphones"],
        title="Phone X",
        price="499.00",
        compare_at="549.00",
        variants=[{"colour": "Black"}, {"colour": "White"}],
        stock=[3, 0],
        images=2,
        attributes={"screen_size": 6.1, "colour": "Black"},
    )


def test_product_detail_per_api_md(api_client, phone):
    response = api_client.get(f"/api/v1/products/{phone.slug}/")

    assert response.status_code == 200
    body = response.json()
    assert {"slug", "url", "title", "description", "brand", "category", "seller", "attributes", "images", "rating",
            "variants"} <= body.keys()  # fmt: skip
    assert body["slug"] == phone.slug
    assert body["url"] == f"/p/{phone.slug}/"
    assert body["title"] == "Phone X"
    assert body["description"] == phone.description
    assert body["brand"] == phone.brand.name
    assert body["category"] == "smartphones"
    assert body["category_path"] == "electronics/phones/smartphones"
    assert body["seller"] == {"slug": phone.seller.slug, "name": phone.seller.store_name}
    assert body["attributes"] == {"screen_size": 6.1, "colour": "Black"}
    assert len(body["images"]) == 2
    image = body["images"][0]
    assert image["url"].startswith("http://testserver/media/products/r/")
    assert image["url"].endswith("-large.jpg")
    assert (image["width"], image["height"]) == (1400, 1400)
    assert body["rating"] == {"average": None, "count": 0}
    skus = [variant.sku for variant in phone.variants.order_by("position")]
    assert body["variants"] == [
        {"sku": skus[0], "price": "499.00", "compare_at_price": "549.00", "currency": "EUR",
         "attributes": {"colour": "Black"}, "available": 3},
        {"sku": skus[1], "price": "499.00", "compare_at_price": "549.00", "currency": "EUR",
         "attributes": {"colour": "White"}, "available": 0},
    ]  # fmt: skip


def test_product_detail_needs_no_authentication_and_shows_each_stock_change(
    api_client, phone, django_capture_on_commit_callbacks
):
    from inventory import services as inventory

    api_client.get(f"/api/v1/products/{phone.slug}/")  # the figures are cached now
    variants = list(phone.variants.order_by("pk"))
    with django_capture_on_commit_callbacks(execute=True):
        for variant in variants:
            inventory.stock_set(variant=variant, on_hand=7)
        inventory.reservation_create(key="checkout:1", lines=[(variant.sku, 2) for variant in variants])

    variants = api_client.get(f"/api/v1/products/{phone.slug}/").json()["variants"]

    assert [variant["available"] for variant in variants] == [5, 5]


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Product.Status.DRAFT},
        {"status": Product.Status.ARCHIVED},
        {"seller": lambda: SellerFactory(status=Seller.Status.SUSPENDED)},
    ],
    ids=["draft", "archived", "suspended-seller"],
)
def test_product_detail_is_404_in_the_error_format_for_unlisted_products(api_client, tree, fields):
    fields = {name: value() if callable(value) else value for name, value in fields.items()}
    product = make_product(category=tree["laptops"], **fields)

    for slug in (product.slug, "no-such-product"):
        response = api_client.get(f"/api/v1/products/{slug}/")
        assert response.status_code == 404
        body = response.json()
        assert body["error"] == "not_found"
        assert body["detail"]


def test_categories_list_every_category_unpaginated_with_its_schema(api_client, tree):
    # "phones" under two parents: the slug repeats, the path does not
    Category.objects.create(name="Phones", slug="phones", parent=tree["garden"])

    response = api_client.get("/api/v1/categories/")

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    by_path = {category["path"]: category for category in body}
    assert len(body) == len(by_path) == Category.objects.count()
    assert [c["path"] for c in body].index("electronics") < [c["path"] for c in body].index("electronics/phones")
    assert by_path["electronics"] == {
        "slug": "electronics",
        "name": "Electronics",
        "parent": None,
        "parent_path": None,
        "path": "electronics",
        "url": "/c/electronics/",
        "attributes": [],
    }
    smartphones = by_path["electronics/phones/smartphones"]
    assert smartphones["parent"] == "phones"
    assert smartphones["parent_path"] == "electronics/phones"
    assert smartphones["url"] == "/c/electronics/phones/smartphones/"
    assert smartphones["attributes"] == [
        {"name": "screen_size", "type": "number", "required": True, "choices": []},
        {"name": "colour", "type": "choice", "required": False, "choices": ["Black", "White"]},
    ]
    assert by_path["garden/phones"]["parent"] == "garden"


def test_categories_are_served_from_the_cache(api_client, tree, django_assert_num_queries):
    api_client.get("/api/v1/categories/")

    with django_assert_num_queries(0):
        assert api_client.get("/api/v1/categories/").status_code == 200


def test_both_endpoints_are_in_the_openapi_schema(api_client):
    schema = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content.decode()

    assert "/api/v1/products/{slug}/" in schema
    assert "/api/v1/categories/" in schema
