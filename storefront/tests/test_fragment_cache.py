"""Fragment caching: shared fragments come from the cache until a product or seller event makes them
stale; what belongs to one visitor (header, CSRF token) is never served from it, and the stock
figures come from inventory's write-through copy, refreshed by every stock change."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from catalog import events as catalog_events
from catalog.models import Product
from inventory import services as inventory
from inventory.models import Stock
from sellers import events as sellers_events
from sellers.models import Seller
from shop.core.events import publish
from storefront import versions
from storefront.tests.conftest import make_product

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    return response.content.decode()


def _publish(django_capture_on_commit_callbacks, name: str, payload: dict) -> None:
    """Publish an event the way a service does, and let it be delivered (Celery runs eagerly in tests)."""
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish(name, payload)


def _product_event(django_capture_on_commit_callbacks, product: Product, name=catalog_events.PRODUCT_UPDATED):
    product.refresh_from_db()
    _publish(django_capture_on_commit_callbacks, name, catalog_events.product_payload(product))


@pytest.fixture
def product(tree):
    return make_product(category=tree["smartphones"], title="Phone X", images=2, stock=10)


def test_a_product_page_comes_from_the_cache_until_its_event_is_delivered(
    client, product, django_capture_on_commit_callbacks
):
    assert "Phone X" in _html(client.get(f"/p/{product.slug}/"))
    Product.objects.filter(pk=product.pk).update(title="Phone X2")  # a write that announced nothing

    assert "Phone X2" not in _html(client.get(f"/p/{product.slug}/"))

    _product_event(django_capture_on_commit_callbacks, product)

    assert "Phone X2" in _html(client.get(f"/p/{product.slug}/"))


def test_archiving_a_product_takes_its_cached_page_and_cards_down(
    client, tree, product, django_capture_on_commit_callbacks
):
    for url in (f"/p/{product.slug}/", "/c/electronics/", "/c/electronics/phones/smartphones/", "/"):
        assert "Phone X" in _html(client.get(url))
    Product.objects.filter(pk=product.pk).update(status=Product.Status.ARCHIVED)

    _product_event(django_capture_on_commit_callbacks, product, catalog_events.PRODUCT_ARCHIVED)

    assert client.get(f"/p/{product.slug}/").status_code == 404
    for url in ("/c/electronics/", "/c/electronics/phones/", "/c/electronics/phones/smartphones/", "/"):
        assert "Phone X" not in _html(client.get(url)), url


def test_a_new_product_appears_in_every_ancestor_listing_once_announced(
    client, tree, product, django_capture_on_commit_callbacks
):
    for url in ("/c/electronics/", "/c/electronics/phones/", "/"):
        client.get(url)
    newcomer = make_product(category=tree["smartphones"], title="Newcomer")

    assert "Newcomer" not in _html(client.get("/c/electronics/"))  # cached, not yet announced

    _product_event(django_capture_on_commit_callbacks, newcomer, catalog_events.PRODUCT_CREATED)

    for url in ("/c/electronics/", "/c/electronics/phones/", "/c/electronics/phones/smartphones/", "/"):
        assert "Newcomer" in _html(client.get(url)), url
    assert "Newcomer" not in _html(client.get("/c/electronics/laptops/"))


def test_a_product_moved_to_another_category_leaves_the_old_listing(
    client, tree, product, django_capture_on_commit_callbacks
):
    client.get("/c/electronics/phones/")
    Product.objects.filter(pk=product.pk).update(category=tree["laptops"])
    product.refresh_from_db()

    payload = {**catalog_events.product_payload(product), "previous_category_id": tree["smartphones"].pk}
    _publish(django_capture_on_commit_callbacks, catalog_events.PRODUCT_UPDATED, payload)

    assert "Phone X" not in _html(client.get("/c/electronics/phones/"))
    assert "Phone X" in _html(client.get("/c/electronics/laptops/"))


def test_suspending_a_seller_closes_its_pages_and_empties_its_cards(
    client, tree, product, django_capture_on_commit_callbacks
):
    seller = product.seller
    for url in (f"/p/{product.slug}/", "/c/electronics/", f"/s/{seller.slug}/", "/"):
        client.get(url)
    Seller.objects.filter(pk=seller.pk).update(status=Seller.Status.SUSPENDED)

    # The seller page reads the seller live: closed before any event arrives.
    assert client.get(f"/s/{seller.slug}/").status_code == 404

    payload = {"seller_id": seller.pk, "slug": seller.slug, "status": "suspended", "previous_status": "approved"}
    _publish(django_capture_on_commit_callbacks, sellers_events.SELLER_STATUS_CHANGED, payload)

    assert client.get(f"/p/{product.slug}/").status_code == 404
    assert client.get(f"/api/v1/products/{product.slug}/").status_code == 404
    for url in ("/c/electronics/", "/"):
        assert "Phone X" not in _html(client.get(url)), url


def test_the_cached_product_page_shows_each_visitor_their_own_header_and_csrf_token(product):
    users = [
        get_user_model().objects.create_user(email=f"{name}@example.com", password="a long password 1")
        for name in ("ada", "grace")
    ]
    clients = [Client(), Client()]
    for client, user in zip(clients, users, strict=True):
        client.force_login(user)
    anonymous = Client()

    pages = [_html(client.get(f"/p/{product.slug}/")) for client in (*clients, anonymous)]

    tokens = [re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1) for html in pages]
    assert len(set(tokens)) == 3  # a token per visitor, never a cached one
    for html, client in zip(pages, (*clients, anonymous), strict=True):
        cookie = client.cookies["csrftoken"].value
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        assert token != cookie  # masked per response
    assert "Log out" in pages[0]
    assert "Log out" in pages[1]
    assert "Sign in" in pages[2]
    assert "Log out" not in pages[2]
    # and the shared part did come from the cache for the second and third visitor
    assert pages[0].split('<div class="gallery"', 1)[1][:500] == pages[2].split('<div class="gallery"', 1)[1][:500]


def _set_stock(django_capture_on_commit_callbacks, product: Product, on_hand: int) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        for variant in product.variants.all():
            inventory.stock_set(variant=variant, on_hand=on_hand)


def test_stock_on_the_product_page_follows_each_stock_change(client, product, django_capture_on_commit_callbacks):
    assert "In stock" in _html(client.get(f"/p/{product.slug}/"))

    _set_stock(django_capture_on_commit_callbacks, product, 2)
    assert "Only 2 left" in _html(client.get(f"/p/{product.slug}/"))

    _set_stock(django_capture_on_commit_callbacks, product, 0)
    html = _html(client.get(f"/p/{product.slug}/"))
    assert "Out of stock" in html
    assert re.search(r"<button[^>]*data-add-to-cart disabled", html)


def test_the_stock_shown_is_read_from_the_database_when_the_cache_lost_it(client, product):
    assert "In stock" in _html(client.get(f"/p/{product.slug}/"))
    Stock.objects.filter(variant__product=product).update(on_hand=2)  # behind the services' back
    cache.delete_many([inventory.availability_key(variant.pk) for variant in product.variants.all()])

    assert "Only 2 left" in _html(client.get(f"/p/{product.slug}/"))


def test_pages_render_when_the_cache_is_down(client, product, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }

    for url in (f"/p/{product.slug}/", "/c/electronics/", f"/s/{product.seller.slug}/", "/", "/api/v1/categories/"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "Phone X" in _html(client.get("/c/electronics/"))
    assert client.get(f"/api/v1/products/{product.slug}/").json()["title"] == "Phone X"


def test_an_entry_is_stale_once_any_of_its_scopes_is_bumped():
    calls = []

    def build():
        calls.append(1)
        return len(calls)

    def get():
        return versions.cached("test", ("x",), ["a", "b"], build, timeout=60)

    assert get() == 1
    assert get() == 1
    versions.bump(["b"])
    assert get() == 2
    versions.bump(["a", "unrelated"])
    assert get() == 3
    assert get() == 3


def test_a_lost_version_key_never_revives_an_old_entry():
    from django.core.cache import cache

    versions.cached("test", (), ["a"], lambda: "old", timeout=60)
    cache.delete("sf:v:a")  # evicted, flushed

    assert versions.cached("test", (), ["a"], lambda: "new", timeout=60) == "new"
