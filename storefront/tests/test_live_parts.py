"""Hole-punched pages: a storefront page is cached once for everyone, and each request fills in the
parts that belong to its visitor (storefront.live). What one visitor sees of another must be nothing,
what the cache holds must belong to no one, and the parts that must be live are."""

from __future__ import annotations

import pickle
import re

import pytest
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import cache
from django.db import transaction
from django.template import Context, Template
from django.test import Client
from django.utils import timezone

from catalog import events as catalog_events
from catalog.models import Product
from inventory import services as inventory
from inventory.models import Stock
from sellers.tests.factories import SellerFactory
from shop.core.events import publish
from storefront import buy_box, live, selectors, views
from storefront.tests.conftest import make_product

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
}


def _html(response) -> str:
    return response.content.decode()


@pytest.fixture
def product(tree):
    return make_product(
        category=tree["smartphones"],
        title="Phone X",
        images=2,
        variants=[{"colour": "Black"}, {"colour": "White"}],
        stock=[0, 10],
    )


def _user(name: str, **fields):
    return get_user_model().objects.create_user(email=f"{name}@example.com", password="a long password 1", **fields)


def _signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _page_entries() -> list[dict]:
    """Every page in the cache, as stored."""
    entries = [cache.get(key)[1] for key in cache.keys("sf:e:page.*")]
    return [entry for entry in entries if entry is not None]


@pytest.mark.parametrize("url", ["product", "/c/electronics/", "/"])
def test_two_users_get_the_same_cached_page_each_with_their_own_token_and_header(url, product):
    url = f"/p/{product.slug}/" if url == "product" else url
    ada, grace = _user("ada", full_name="Ada Lovelace"), _user("grace", is_staff=True)
    clients = {"ada": _signed_in(ada), "grace": _signed_in(grace)}

    pages = {name: _html(client.get(url)) for name, client in clients.items()}

    assert len(_page_entries()) == 1  # one page in the cache, served to both
    tokens = {name: TOKEN.findall(html) for name, html in pages.items()}
    assert tokens["ada"]
    assert tokens["grace"]
    assert set(tokens["ada"]).isdisjoint(tokens["grace"])
    assert 'href="/admin/"' in pages["grace"]
    assert 'href="/admin/"' not in pages["ada"]
    for html in pages.values():
        assert "Log out" in html
        assert "Sign in" not in html
    # Each token works for its own visitor only: it belongs to that visitor's CSRF cookie.
    assert clients["grace"].post("/accounts/logout/", {"csrfmiddlewaretoken": tokens["ada"][0]}).status_code == 403
    assert clients["ada"].post("/accounts/logout/", {"csrfmiddlewaretoken": tokens["ada"][0]}).status_code == 302


def test_the_cached_page_holds_no_token_name_email_or_message(rf, product):
    user = _user("ada.lovelace", full_name="Ada Lovelace", is_staff=True)
    for url, view, kwargs in [
        (f"/p/{product.slug}/", views.product, {"slug": product.slug}),
        ("/c/electronics/", views.category, {"path": "electronics"}),
        ("/", views.home, {}),
        ("/help/", views.help_page, {}),
    ]:
        request = rf.get(url)
        SessionMiddleware(lambda r: None).process_request(request)
        MessageMiddleware(lambda r: None).process_request(request)
        request.user = user
        messages.success(request, "Your address was saved.")

        html = _html(view(request, **kwargs))

        assert "Your address was saved." in html  # the visitor sees their message and header
        assert "Log out" in html
        assert TOKEN.search(html)

    entries = _page_entries()
    assert len(entries) == 4
    for entry in entries:
        stored = pickle.dumps(entry).decode("utf-8", "replace")
        for private in (
            "csrfmiddlewaretoken",
            "ada.lovelace",
            "Ada Lovelace",
            "Log out",
            "Your address was saved.",
            "/admin/",
        ):
            assert private not in stored
        holes = entry["pieces"][1::2]
        assert {"header", "messages", "footer_account"} <= set(holes)


def test_a_message_shows_once_on_a_cached_page(client, product):
    user = _user("ada", email_verified_at=timezone.now())
    client.force_login(user)
    client.get("/c/electronics/")  # cached before the message exists
    client.post("/accounts/verify/resend/")  # queues "already confirmed" for the next page

    assert "Your email address is already confirmed." in _html(client.get("/c/electronics/"))
    assert "Your email address is already confirmed." not in _html(client.get("/c/electronics/"))


def test_a_page_for_everyone_with_a_csrf_token_is_refused():
    with pytest.raises(ValueError, match="CSRF"):
        live.split('<form><input type="hidden" name="csrfmiddlewaretoken" value="abc"></form>')


def test_the_buy_box_shows_a_stock_change_at_once_while_the_rest_stays_cached(
    client, product, django_capture_on_commit_callbacks
):
    html = _html(client.get(f"/p/{product.slug}/"))
    assert 'data-variant-stock="Out of stock"' in html  # Black
    assert re.search(r'<option value="[^"]+" selected [^>]*data-variant-stock="In stock"', html)  # White
    Product.objects.filter(pk=product.pk).update(title="Phone Y")  # announced by no event: stays cached
    black, white = product.variants.order_by("position")
    with django_capture_on_commit_callbacks(execute=True):
        inventory.stock_set(variant=black, on_hand=3)
        inventory.stock_set(variant=white, on_hand=0)

    html = _html(client.get(f"/p/{product.slug}/"))

    assert "Phone X" in html
    assert "Phone Y" not in html
    assert re.search(rf'<option value="{black.sku}" selected [^>]*data-variant-stock="Only 3 left"', html)
    assert re.search(rf'<option value="{white.sku}" disabled [^>]*data-variant-stock="Out of stock"', html)
    assert re.search(r'<input type="radio" name="option-colour" value="Black" checked>', html)
    assert 'max="3"' in html


def test_pages_render_whole_and_live_when_the_cache_is_down(product, settings):
    settings.CACHES = DOWN
    client = _signed_in(_user("ada"))

    html = _html(client.get(f"/p/{product.slug}/"))

    assert "Phone X" in html
    assert "Log out" in html
    assert 'aria-label="Categories"' in html
    assert TOKEN.search(html)
    assert "<!--live:" not in html
    assert html.rstrip().endswith("</html>")
    Stock.objects.filter(variant__product=product).update(on_hand=0)
    assert "Currently unavailable" not in _html(client.get(f"/p/{product.slug}/"))
    assert re.search(r"<button[^>]*data-add-to-cart disabled", _html(client.get(f"/p/{product.slug}/")))
    for url in ("/c/electronics/", "/", "/help/", f"/s/{product.seller.slug}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Log out" in _html(response)


# --- warm pages: a fixed number of queries ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "anonymous", "signed_in"),
    [
        # the stock comes from Redis; the session, the user and their own review when signed in
        ("product", 0, 3),
        ("/c/electronics/", 0, 2),
        ("/c/electronics/phones/?sort=price_asc", 0, 2),
        ("/", 0, 2),
        ("/help/", 0, 2),
        ("seller", 1, 3),  # the seller, read live
    ],
)
def test_warm_pages_run_a_fixed_number_of_queries(url, anonymous, signed_in, tree, django_assert_num_queries):
    seller = SellerFactory()
    for i in range(30):
        last = make_product(category=tree["smartphones"], seller=seller, variants=[{"size": str(i)}, {}], images=1)
    url = {"product": f"/p/{last.slug}/", "seller": f"/s/{seller.slug}/"}.get(url, url)
    visitor = Client()
    member = Client()
    member.force_login(_user("ada"))
    visitor.get(url)

    with django_assert_num_queries(anonymous):
        assert visitor.get(url).status_code == 200
    with django_assert_num_queries(signed_in):
        assert member.get(url).status_code == 200


def test_a_warm_page_is_one_cache_round_trip(client, product, monkeypatch):
    client.get(f"/p/{product.slug}/")
    calls = []
    for name in ("get", "get_many", "set", "add", "incr"):
        original = getattr(cache, name)
        monkeypatch.setattr(cache, name, lambda *a, _n=name, _o=original, **k: calls.append(_n) or _o(*a, **k))

    client.get(f"/p/{product.slug}/")
    client.get("/c/electronics/")  # warmed below, then counted
    calls.clear()
    client.get("/c/electronics/")

    assert calls == ["get_many"]


def test_a_warm_product_page_is_one_cache_round_trip_with_its_stock(client, product, monkeypatch):
    client.get(f"/p/{product.slug}/")  # this process keeps its copy of the page
    calls = []
    for name in ("get", "get_many", "set", "add", "incr"):
        original = getattr(cache, name)
        monkeypatch.setattr(cache, name, lambda *a, _n=name, _o=original, **k: calls.append(_n) or _o(*a, **k))

    html = _html(client.get(f"/p/{product.slug}/"))

    assert calls == ["get_many"]  # the page's versions and its variants' stock together
    assert "Phone X" in html


def test_a_process_copy_of_the_product_page_is_dropped_once_its_versions_move(
    client, product, django_capture_on_commit_callbacks
):
    client.get(f"/p/{product.slug}/")
    Product.objects.filter(pk=product.pk).update(title="Phone Y")
    _announce(django_capture_on_commit_callbacks, product)  # the event bumps the product's version

    assert "Phone Y" in _html(client.get(f"/p/{product.slug}/"))


# --- counts -------------------------------------------------------------------------------------


def _announce(django_capture_on_commit_callbacks, product: Product) -> None:
    product.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish(catalog_events.PRODUCT_CREATED, catalog_events.product_payload(product))


def test_a_count_past_the_cap_is_not_counted_again_for_each_product_event(
    client, tree, monkeypatch, django_capture_on_commit_callbacks, django_assert_num_queries
):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for _ in range(5):
        make_product(category=tree["laptops"])
    assert "3+ products" in _html(client.get("/c/electronics/"))
    newcomer = make_product(category=tree["laptops"], title="Newcomer")
    _announce(django_capture_on_commit_callbacks, newcomer)

    # the page again (keys, products, variants, stock), without counting 3+ products once more
    with django_assert_num_queries(4):
        html = _html(client.get("/c/electronics/"))

    assert "Newcomer" in html
    assert "3+ products" in html


def test_a_count_under_the_cap_follows_each_product_event(client, tree, django_capture_on_commit_callbacks):
    make_product(category=tree["laptops"])
    assert "1 product" in _html(client.get("/c/electronics/laptops/"))

    _announce(django_capture_on_commit_callbacks, make_product(category=tree["laptops"]))

    assert "2 products" in _html(client.get("/c/electronics/laptops/"))


# --- the buy box --------------------------------------------------------------------------------


def test_the_buy_box_shows_the_first_variant_in_stock_and_bounds_the_quantity(tree):
    product = make_product(category=tree["smartphones"], variants=[{"size": "S"}, {"size": "M"}], stock=[0, 200])
    prepared = buy_box.prepare(selectors.product_page(product.slug))
    small, medium = buy_box.variant_ids(prepared)

    html = buy_box.render(prepared, {small: 0, medium: 200}, "<input>")

    assert re.search(r'<option value="[^"]+" selected [^>]*data-variant-available="200"', html)
    assert 'value="M" checked' in html
    assert f'max="{buy_box.MAX_QUANTITY}"' in html
    assert "data-add-to-cart disabled" not in html

    sold_out = buy_box.render(prepared, {}, "<input>")

    assert 'value="S" checked' in sold_out  # nothing in stock: the first one, disabled
    assert 'max="1"' in sold_out
    assert "data-add-to-cart disabled" in sold_out


def test_the_buy_box_escapes_what_sellers_write(tree):
    product = make_product(category=tree["smartphones"], variants=[{"size": '<b>"XL"</b>'}, {"size": "S"}])
    prepared = buy_box.prepare(selectors.product_page(product.slug))
    html = buy_box.render(prepared, dict.fromkeys(buy_box.variant_ids(prepared), 5), "<input>")

    assert "<b>" not in html
    assert "&lt;b&gt;&quot;XL&quot;&lt;/b&gt;" in html


def test_layout_parts_render_in_place_on_pages_rendered_the_ordinary_way(client):
    html = _html(client.get("/accounts/login/"))

    assert "<!--live:" not in html
    assert '<span class="cart-count">0</span>' in html
    assert "Create account" in html


def test_the_header_renders_for_a_request_without_a_user(rf):
    request = rf.get("/p/x/?utm=a&b=<c>")
    request.user = AnonymousUser()

    html = live.header(live.Visitor(request))

    assert 'href="/accounts/login/?next=/p/x/%3Futm%3Da%26b%3D' in html  # back here after signing in
    assert "<c>" not in html


def test_a_live_part_rendered_without_a_request_is_left_as_a_hole():
    html = Template('{% load storefront_tags %}<nav>{% live_part "header" %}</nav>').render(Context({}))

    assert html == "<nav><!--live:header--></nav>"  # never an anonymous header that could be cached
