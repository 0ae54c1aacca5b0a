"""The seller API of API.md: products with variants and stock, scoped to the signed-in seller."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from backoffice import services
from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory.models import Stock
from inventory.tests.factories import StockFactory
from sellers.models import Seller
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db

PRODUCTS = reverse("api:seller-product-list")
ONE_MEGABYTE = "x" * (1024 * 1024)


def product_url(slug):
    return reverse("api:seller-product-detail", kwargs={"slug": slug})


def stock_url(sku):
    return reverse("api:seller-stock", kwargs={"sku": sku})


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


@pytest.fixture
def seller():
    return SellerFactory()


@pytest.fixture
def api(seller):
    return client_for(seller.user)


@pytest.fixture
def mugs():
    return CategoryFactory(
        name="Mugs",
        slug="mugs",
        attribute_schema=[
            {"name": "capacity_ml", "type": "number", "required": True},
            {"name": "dishwasher_safe", "type": "boolean", "required": False},
        ],
    )


def mug(**overrides) -> dict:
    return {
        "title": "Stoneware Mug",
        "description": "Holds coffee.",
        "category": "mugs",
        "brand": "Kiln & Co",
        "attributes": {"capacity_ml": 350},
        "variants": [
            {"sku": "MUG-BLUE", "price": "14.50", "stock": 20, "attributes": {"colour": "Blue"}},
            {"sku": "MUG-RED", "price": 13, "stock": 0, "attributes": {"colour": "Red"}, "compare_at_price": "16.00"},
        ],
    } | overrides


@pytest.fixture
def own_product(seller, mugs):
    return services.seller_product_create(seller=seller, data=mug(), actor=seller.user)


@pytest.fixture
def others_product(mugs):
    other = SellerFactory()
    return services.seller_product_create(
        seller=other,
        data=mug(title="Their Mug", variants=[{"sku": "THEIR-MUG", "price": "9.00", "stock": 4}]),
        actor=other.user,
    )


# --- create ---------------------------------------------------------------------------------------


def test_create_answers_201_with_slug_status_and_variants_with_stock(api, mugs):
    response = api.post(PRODUCTS, mug(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "stoneware-mug"
    assert body["status"] == "active"
    assert (body["category"], body["brand"], body["attributes"]) == ("mugs", "Kiln & Co", {"capacity_ml": 350})
    assert (body["price"], body["currency"]) == ("13.00", "EUR")
    assert body["variants"] == [
        {
            "sku": "MUG-BLUE",
            "price": "14.50",
            "compare_at_price": None,
            "currency": "EUR",
            "attributes": {"colour": "Blue"},
            "weight_grams": 0,
            "is_active": True,
            "stock": {"on_hand": 20, "reserved": 0, "available": 20},
        },
        {
            "sku": "MUG-RED",
            "price": "13.00",
            "compare_at_price": "16.00",
            "currency": "EUR",
            "attributes": {"colour": "Red"},
            "weight_grams": 0,
            "is_active": True,
            "stock": {"on_hand": 0, "reserved": 0, "available": 0},
        },
    ]


def test_create_as_draft(api, mugs):
    response = api.post(PRODUCTS, mug(status="draft"), format="json")

    assert response.json()["status"] == "draft"


def test_create_with_a_session_needs_the_csrf_token(seller, mugs, settings):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(seller.user)

    refused = browser.post(PRODUCTS, mug(), content_type="application/json")
    assert_error(refused, 403, "forbidden")

    secret = "k" * 32  # what the CSRF cookie holds; the page's script sends it back in the header
    browser.cookies[settings.CSRF_COOKIE_NAME] = secret
    accepted = browser.post(PRODUCTS, mug(), content_type="application/json", headers={"X-CSRFToken": secret})
    assert accepted.status_code == 201, accepted.content


def test_anonymous_is_401(mugs):
    assert_error(APIClient().post(PRODUCTS, mug(), format="json"), 401, "unauthorized")
    assert_error(APIClient().get(PRODUCTS), 401, "unauthorized")


def test_a_buyer_who_is_not_a_seller_is_403(mugs):
    buyer = client_for(UserFactory())

    body = assert_error(buyer.post(PRODUCTS, mug(), format="json"), 403, "forbidden")
    assert "Apply to sell" in body["detail"]
    assert_error(buyer.get(PRODUCTS), 403, "forbidden")


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (Seller.Status.PENDING, "waiting for review"),
        (Seller.Status.SUSPENDED, "suspended"),
        (Seller.Status.REJECTED, "not approved"),
    ],
)
def test_a_seller_who_is_not_approved_is_403_and_publishes_nothing(mugs, status, words):
    seller = SellerFactory(status=status)

    body = assert_error(client_for(seller.user).post(PRODUCTS, mug(), format="json"), 403, "forbidden")

    assert words in body["detail"]
    assert not Product.objects.exists()


def test_a_seller_suspended_after_creating_can_no_longer_change_or_list(seller, api, own_product):
    seller.status = Seller.Status.SUSPENDED
    seller.save()

    assert_error(api.patch(product_url(own_product.slug), {"title": "x"}, format="json"), 403, "forbidden")
    assert_error(api.put(stock_url("MUG-BLUE"), {"on_hand": 1}, format="json"), 403, "forbidden")
    assert_error(api.get(PRODUCTS), 403, "forbidden")


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ONE_MEGABYTE}, "title"),
        ({"title": 123}, "title"),
        ({"title": ""}, "title"),
        ({"description": "d" * 20_001}, "description"),
        ({"category": "jetpacks"}, "category"),
        ({"category": ["mugs"]}, "category"),
        ({"attributes": "big"}, "attributes"),
        ({"attributes": {"capacity_ml": "a lot"}}, "attributes.capacity_ml"),
        ({"attributes": {"glaze": "matte", "capacity_ml": 300}}, "attributes.glaze"),
        ({"attributes": {}}, "attributes.capacity_ml"),
        ({"status": "archived"}, "status"),
        ({"variants": []}, "variants"),
        ({"variants": "MUG-1"}, "variants"),
        ({"variants": [{"sku": f"M-{i}", "price": "1.00"} for i in range(101)]}, "variants"),
        ({"variants": [{"sku": "M-1", "price": "-1.00"}]}, "variants.0.price"),
        ({"variants": [{"sku": "M-1", "price": "0"}]}, "variants.0.price"),
        ({"variants": [{"sku": "M-1", "price": "1.999"}]}, "variants.0.price"),
        ({"variants": [{"sku": "M-1", "price": "free"}]}, "variants.0.price"),
        ({"variants": [{"sku": "M-1", "price": True}]}, "variants.0.price"),
        ({"variants": [{"sku": "M-1", "price": "1.00", "stock": "abc"}]}, "variants.0.stock"),
        ({"variants": [{"sku": "M-1", "price": "1.00", "stock": -1}]}, "variants.0.stock"),
        ({"variants": [{"sku": "M-1", "price": "1.00", "stock": 1_000_001}]}, "variants.0.stock"),
        ({"variants": [{"sku": "M-1", "price": "1.00", "currency": "euro"}]}, "variants.0.currency"),
        ({"variants": [{"sku": "M-1", "price": "5.00", "compare_at_price": "4.00"}]}, "variants.0.compare_at_price"),
        ({"variants": [{"sku": "M 1", "price": "1.00"}]}, "variants.0.sku"),
        ({"variants": [{"price": "1.00"}]}, "variants.0.sku"),
        ({"variants": [{"sku": "M-1", "price": "1.00"}, {"sku": "M-1", "price": "2.00"}]}, "variants.1.sku"),
        ({"variants": [{"sku": "M-1", "price": "1.00", "size": "L"}]}, "variants.0.size"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_400_invalid_with_the_field_named(api, mugs, overrides, field):
    response = api.post(PRODUCTS, mug(**overrides), format="json")

    body = assert_error(response, 400, "invalid")
    assert field in body["fields"], body
    assert not Product.objects.exists()


def test_a_sku_of_another_seller_is_400_without_revealing_whose(api, others_product):
    response = api.post(PRODUCTS, mug(variants=[{"sku": "THEIR-MUG", "price": "1.00"}]), format="json")

    body = assert_error(response, 400, "invalid")
    assert body["fields"]["variants.0.sku"] == ["The SKU THEIR-MUG is already used by another product."]


def test_a_body_that_is_not_json_is_400(api, mugs):
    response = api.post(PRODUCTS, "{not json", content_type="application/json")

    assert_error(response, 400, "invalid")


def test_a_body_over_the_size_limit_is_413(api, mugs, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

    response = api.post(PRODUCTS, mug(description="d" * (128 * 1024)), format="json")

    assert_error(response, 413, "too_large")


# --- list and detail ------------------------------------------------------------------------------


def test_list_shows_only_the_sellers_own_products_paginated(api, own_product, others_product):
    response = api.get(PRODUCTS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [p["slug"] for p in body["results"]] == [own_product.slug]
    assert body["results"][0]["variants"][0]["stock"] == {"on_hand": 20, "reserved": 0, "available": 20}


def test_list_includes_drafts_and_archived_products_newest_first(seller, api, mugs):
    ProductFactory(seller=seller, status=Product.Status.ARCHIVED, slug="old-one")
    ProductFactory(seller=seller, status=Product.Status.DRAFT, slug="new-one")

    body = api.get(PRODUCTS, {"page_size": 1}).json()

    assert body["count"] == 2
    assert [p["slug"] for p in body["results"]] == ["new-one"]
    assert body["next"] is not None


def test_list_makes_the_same_number_of_queries_for_one_product_or_many(seller, api, django_assert_max_num_queries):
    ProductFactory(seller=seller, variants=3)
    with django_assert_max_num_queries(20) as few:
        api.get(PRODUCTS)
    for _ in range(10):
        for variant in ProductFactory(seller=seller, variants=3).variants.all():
            StockFactory(variant=variant)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get(PRODUCTS)

    assert response.json()["count"] == 11


def test_detail_of_an_own_product(api, own_product):
    response = api.get(product_url(own_product.slug))

    assert response.status_code == 200
    assert response.json()["title"] == "Stoneware Mug"


def test_detail_of_another_sellers_product_is_404(api, others_product):
    assert_error(api.get(product_url(others_product.slug)), 404, "not_found")


# --- patch ----------------------------------------------------------------------------------------


def test_patch_changes_the_fields_given(api, own_product):
    response = api.patch(product_url(own_product.slug), {"title": "Stoneware Mug, large"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["slug"], body["description"]) == (
        "Stoneware Mug, large",
        own_product.slug,
        "Holds coffee.",
    )


def test_patch_changes_variants_by_sku_adds_new_ones_and_sets_stock(api, own_product):
    response = api.patch(
        product_url(own_product.slug),
        {
            "variants": [
                {"sku": "MUG-BLUE", "price": "12.00", "stock": 8},
                {"sku": "MUG-RED", "stock": 3},
                {"sku": "MUG-GREEN", "price": "15.00", "stock": 2, "attributes": {"colour": "Green"}},
            ]
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    variants = {v["sku"]: v for v in response.json()["variants"]}
    assert variants["MUG-BLUE"]["price"] == "12.00"
    assert variants["MUG-BLUE"]["attributes"] == {"colour": "Blue"}
    assert variants["MUG-BLUE"]["stock"]["on_hand"] == 8
    assert variants["MUG-RED"]["stock"]["on_hand"] == 3
    assert variants["MUG-GREEN"]["stock"] == {"on_hand": 2, "reserved": 0, "available": 2}
    assert response.json()["price"] == "12.00"


def test_patch_may_archive(api, own_product):
    response = api.patch(product_url(own_product.slug), {"status": "archived"}, format="json")

    assert response.json()["status"] == "archived"


def test_patch_of_another_sellers_product_is_404_and_changes_nothing(api, others_product):
    response = api.patch(product_url(others_product.slug), {"title": "Mine now"}, format="json")

    assert_error(response, 404, "not_found")
    others_product.refresh_from_db()
    assert others_product.title == "Their Mug"


def test_patch_cannot_move_another_sellers_sku_into_an_own_product(api, own_product, others_product):
    response = api.patch(
        product_url(own_product.slug), {"variants": [{"sku": "THEIR-MUG", "price": "1.00"}]}, format="json"
    )

    assert_error(response, 400, "invalid")
    assert others_product.variants.get().price == 9


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": None}, "title"),
        ({"title": ONE_MEGABYTE}, "title"),
        ({"variants": [{"price": "1.00"}]}, "variants.0.sku"),
        ({"variants": [{"sku": "MUG-NEW", "stock": 1}]}, "variants.0.price"),
        ({"variants": [{"sku": "MUG-BLUE", "stock": "abc"}]}, "variants.0.stock"),
        ({"variants": [{"sku": "MUG-BLUE", "stock": 1}, {"sku": "MUG-RED", "price": "-2"}]}, "variants.1.price"),
        ({"status": "deleted"}, "status"),
        ({"category": "nowhere"}, "category"),
        ({"titel": "typo"}, "titel"),
    ],
)
def test_patch_with_bad_input_is_400_and_changes_nothing(api, own_product, data, field):
    response = api.patch(product_url(own_product.slug), data, format="json")

    body = assert_error(response, 400, "invalid")
    assert field in body["fields"], body
    assert Stock.objects.get(sku="MUG-BLUE").on_hand == 20


# --- stock ----------------------------------------------------------------------------------------


def test_put_on_hand_sets_the_count(api, own_product):
    response = api.put(stock_url("MUG-BLUE"), {"on_hand": 7}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"sku": "MUG-BLUE", "on_hand": 7, "reserved": 0, "available": 7}


def test_put_delta_with_a_reason_changes_the_count(api, own_product):
    response = api.put(stock_url("MUG-BLUE"), {"delta": -5, "reason": "damaged in transit"}, format="json")

    assert response.json() == {"sku": "MUG-BLUE", "on_hand": 15, "reserved": 0, "available": 15}
    movement = Stock.objects.get(sku="MUG-BLUE").movements.latest("id")
    assert (movement.delta, movement.reason) == (-5, "damaged in transit")


def test_put_below_reserved_is_409_conflict(api, own_product):
    Stock.objects.filter(sku="MUG-BLUE").update(reserved=6)

    assert_error(api.put(stock_url("MUG-BLUE"), {"on_hand": 5}, format="json"), 409, "conflict")
    assert_error(api.put(stock_url("MUG-BLUE"), {"delta": -15, "reason": "recount"}, format="json"), 409, "conflict")
    assert Stock.objects.get(sku="MUG-BLUE").on_hand == 20


def test_get_stock_of_an_own_sku(api, own_product):
    assert api.get(stock_url("MUG-RED")).json() == {"sku": "MUG-RED", "on_hand": 0, "reserved": 0, "available": 0}


@pytest.mark.parametrize("method", ["get", "put"])
def test_stock_of_another_sellers_sku_is_404_and_unchanged(api, others_product, method):
    response = getattr(api, method)(stock_url("THEIR-MUG"), {"on_hand": 0}, format="json")

    assert_error(response, 404, "not_found")
    assert Stock.objects.get(sku="THEIR-MUG").on_hand == 4


def test_stock_of_an_unknown_sku_is_404(api, own_product):
    assert_error(api.put(stock_url("NO-SUCH-SKU"), {"on_hand": 1}, format="json"), 404, "not_found")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"on_hand": "abc"}, "on_hand"),
        ({"on_hand": -1}, "on_hand"),
        ({"on_hand": 1_000_001}, "on_hand"),
        ({"on_hand": 2.5}, "on_hand"),
        ({"delta": 3}, "reason"),
        ({"delta": 3, "reason": "r" * 201}, "reason"),
        ({"on_hand": 1, "delta": 1, "reason": "both"}, "non_field_errors"),
        ({}, "non_field_errors"),
        ({"count": 3}, "count"),
    ],
)
def test_put_with_bad_input_is_400_invalid(api, own_product, data, field):
    body = assert_error(api.put(stock_url("MUG-BLUE"), data, format="json"), 400, "invalid")

    assert field in body["fields"], body


def test_a_buyer_cannot_touch_stock(own_product):
    assert_error(client_for(UserFactory()).put(stock_url("MUG-BLUE"), {"on_hand": 0}, format="json"), 403, "forbidden")


# --- schema ---------------------------------------------------------------------------------------


def test_the_openapi_schema_documents_the_seller_endpoints(client):
    schema = client.get("/api/v1/schema/")

    assert schema.status_code == 200
    for path in (b"/api/v1/seller/products/", b"/api/v1/seller/products/{slug}/", b"/api/v1/seller/stock/{sku}/"):
        assert path in schema.content
