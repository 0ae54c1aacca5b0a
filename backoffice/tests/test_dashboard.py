"""The Seller Centre's index: the seller's own counts, and links to add and import products."""

import pytest
from django.urls import reverse

from catalog.models import Product
from catalog.tests.factories import ProductFactory, VariantFactory
from inventory.tests.factories import StockFactory
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller():
    return SellerFactory()


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller.user)
    return client


def own_variant(seller, **kwargs):
    return VariantFactory(product=ProductFactory(seller=seller, variants=0, **kwargs))


def test_the_dashboard_counts_only_the_sellers_own_products_and_low_stock(seller_client, seller):
    ProductFactory.create_batch(2, seller=seller, status=Product.Status.ACTIVE)
    ProductFactory(seller=seller, status=Product.Status.DRAFT)
    ProductFactory.create_batch(4, status=Product.Status.ACTIVE)  # another seller's
    StockFactory(variant=own_variant(seller), on_hand=3)  # 3 <= threshold 5: low
    StockFactory(variant=own_variant(seller), on_hand=9, reserved=5)  # 4 available: low
    StockFactory(variant=own_variant(seller), on_hand=50)
    StockFactory(on_hand=0)  # another seller's, out of stock

    response = seller_client.get(reverse("seller_admin:index"))

    assert response.status_code == 200
    context = response.context
    assert context["product_counts"]["active"] == 2 + 3  # the stock fixtures' products are active too
    assert context["product_counts"]["draft"] == 1
    assert context["product_counts"]["archived"] == 0
    assert context["low_stock_count"] == 2
    assert b'id="count-low-stock">2<' in response.content


def test_the_open_sub_orders_card_waits_for_orders(seller_client):
    response = seller_client.get(reverse("seller_admin:index"))

    assert response.context["open_sub_orders"] is None
    assert b"count-open-sub-orders" not in response.content


def test_the_dashboard_links_to_adding_and_importing_products(seller_client, seller):
    content = seller_client.get(reverse("seller_admin:index")).content

    assert reverse("seller_admin:catalog_product_add").encode() in content
    assert reverse("seller_admin:import_products").encode() in content
    assert seller.store_name.encode() in content
    assert b"Seller Centre" in content


def test_the_dashboard_queries_stay_few(seller_client, seller, django_assert_max_num_queries):
    for _ in range(5):
        StockFactory(variant=own_variant(seller), on_hand=1)

    with django_assert_max_num_queries(12):
        seller_client.get(reverse("seller_admin:index"))
