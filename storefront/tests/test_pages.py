"""The storefront's layout and pages: what a buyer's browser gets, headers included."""

from __future__ import annotations

import copy
import re

import pytest
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.urls import NoReverseMatch, reverse

from catalog.models import Category
from shop.core.views import server_error
from storefront import selectors, views

pytestmark = pytest.mark.django_db

NAV_PROCESSOR = "storefront.context_processors.navigation"


@pytest.fixture(autouse=True)
def _nav_context_processor(settings):
    """Registers the storefront's context processor until shop/settings.py lists it (then a no-op)."""
    templates = copy.deepcopy(settings.TEMPLATES)
    processors = templates[0]["OPTIONS"]["context_processors"]
    if NAV_PROCESSOR not in processors:
        processors.append(NAV_PROCESSOR)
        settings.TEMPLATES = templates


@pytest.fixture
def tree():
    electronics = Category.objects.create(name="Electronics", slug="electronics", position=1)
    Category.objects.create(name="Phones", slug="phones", parent=electronics, position=2)
    Category.objects.create(name="Laptops", slug="laptops", parent=electronics, position=1)
    garden = Category.objects.create(name="Home & Garden", slug="home-garden", position=2)
    Category.objects.create(name="Furniture", slug="furniture", parent=garden)
    return electronics, garden


def _html(response) -> str:
    return response.content.decode()


# --- home -------------------------------------------------------------------------------------


def test_home_shows_root_categories_with_their_children_in_order(client, tree):
    response = client.get("/")

    assert response.status_code == 200
    html = _html(response)
    assert "Shop by category" in html
    assert 'href="/c/electronics/"' in html
    assert 'href="/c/home-garden/"' in html
    assert "Home &amp; Garden" in html
    # children by position, not by name or path
    assert html.index('href="/c/electronics/laptops/"') < html.index('href="/c/electronics/phones/"')
    assert 'href="/c/home-garden/furniture/"' in html
    assert "Sell with us" in html


def test_home_without_categories_shows_an_empty_state_not_made_up_products(client):
    response = client.get("/")

    assert response.status_code == 200
    html = _html(response)
    assert "Our sellers are setting up shop" in html
    assert "category-tile" not in html


def test_home_query_count_does_not_grow_with_the_category_tree(client, django_assert_max_num_queries):
    for i in range(8):
        root = Category.objects.create(name=f"Root {i}", slug=f"root-{i}")
        for j in range(5):
            Category.objects.create(name=f"Child {i}.{j}", slug=f"child-{j}", parent=root)

    # header categories (a cache miss), the roots, their children in one prefetch
    with django_assert_max_num_queries(3):
        response = client.get("/")

    assert response.status_code == 200
    assert _html(response).count('class="category-tile"') == 8


def test_header_categories_are_cached_between_requests(client, tree, django_assert_max_num_queries):
    client.get("/help/")

    with django_assert_max_num_queries(0):
        response = client.get("/help/")

    assert 'href="/c/electronics/"' in _html(response)


def test_header_categories_still_render_when_the_cache_is_down(client, tree, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }

    response = client.get("/")

    assert response.status_code == 200
    nav = _html(response).split('aria-label="Categories"', 1)[1]
    assert 'href="/c/electronics/"' in nav


def test_nav_categories_are_plain_dicts_of_the_roots(tree):
    assert selectors.nav_categories() == [
        {"name": "Electronics", "path": "electronics"},
        {"name": "Home & Garden", "path": "home-garden"},
    ]


# --- layout -----------------------------------------------------------------------------------


def test_layout_has_search_form_cart_badge_and_sign_in_links(client):
    html = _html(client.get("/"))

    assert re.search(r'<form[^>]*action="/search/"[^>]*method="get"', html)
    search_input = re.search(r'<input id="search-header"[^>]*>', html).group(0)
    for attribute in ('type="search"', 'name="q"', "aria-label=", 'autocomplete="off"'):
        assert attribute in search_input
    assert 'data-suggest-url="/api/v1/search/suggest/"' in search_input
    assert 'href="/cart/"' in html
    assert '<span class="cart-count">0</span>' in html
    assert 'class="skip-link" href="#main"' in html
    assert 'href="/help/"' in html
    assert 'href="/sell/"' in html
    assert "<title>Shop from independent sellers · The Shop</title>" in html


def test_layout_links_accounts_pages_when_they_exist(client):
    try:
        login_url = reverse("accounts:login")
        signup_url = reverse("accounts:signup")
    except NoReverseMatch:
        pytest.skip("the accounts app has no login/signup URLs yet")

    html = _html(client.get("/"))

    assert f'href="{login_url}?next=/"' in html
    assert f'href="{signup_url}"' in html


def test_staff_see_the_admin_link_and_a_logout_form(client):
    user = get_user_model().objects.create_user(email="staff@example.com", password="a long password 1", is_staff=True)
    client.force_login(user)

    html = _html(client.get("/"))

    assert 'href="/admin/"' in html
    assert "Sign in" not in html
    try:
        logout_url = reverse("accounts:logout")
    except NoReverseMatch:
        return
    assert re.search(rf'<form[^>]*method="post"[^>]*action="{re.escape(logout_url)}"', html)
    assert 'name="csrfmiddlewaretoken"' in html


def test_buyers_do_not_see_the_admin_link(client):
    user = get_user_model().objects.create_user(email="buyer@example.com", password="a long password 1")
    client.force_login(user)

    assert 'href="/admin/"' not in _html(client.get("/"))


def test_messages_render_as_dismissible_alerts(rf):
    request = rf.get("/help/")
    SessionMiddleware(lambda r: None).process_request(request)
    MessageMiddleware(lambda r: None).process_request(request)
    request.user = AnonymousUser()
    messages.success(request, "Your address was saved.")
    messages.error(request, "That coupon has expired.")

    html = _html(views.help_page(request))

    assert re.search(r'class="alert alert-success"[^>]*>\s*<p class="alert-text">Your address was saved.', html)
    assert 'class="alert alert-error" role="alert"' in html
    assert html.count('data-dismiss="alert"') == 2


def test_home_loads_nothing_from_other_hosts_and_nothing_inline(client, tree):
    html = _html(client.get("/"))

    assert not re.search(r"https?://", html), "every resource must come from the shop itself"
    assert not re.search(r"\sstyle=", html), "the CSP blocks inline style attributes"
    assert "<style" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts, "shop.js is loaded"
    for attributes, body in scripts:
        assert 'src="/static/' in attributes
        assert "defer" in attributes
        assert body.strip() == ""
    assert re.search(r'<link rel="stylesheet" href="/static/css/shop\.css">', html)


def test_pages_send_the_security_headers(client):
    response = client.get("/")

    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


# --- content pages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "path", "heading"),
    [("storefront:help", "/help/", "Help &amp; contact"), ("storefront:sell", "/sell/", "Sell on The Shop")],
)
def test_content_pages_render(client, name, path, heading):
    assert reverse(name) == path

    response = client.get(path)

    assert response.status_code == 200
    assert re.search(rf"<h1[^>]*>{re.escape(heading)}</h1>", _html(response))


def test_help_page_gives_the_support_address(client, settings):
    settings.DEFAULT_FROM_EMAIL = "The Shop <help@shop.example>"

    assert 'href="mailto:help@shop.example"' in _html(client.get("/help/"))


def test_favicon_ico_redirects_to_the_svg_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"].endswith("img/favicon.svg")


# --- errors -----------------------------------------------------------------------------------


def test_unknown_url_renders_the_404_page_with_a_search_form(client, tree):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = _html(response)
    assert "We can't find that page" in html
    assert 'id="search-not-found"' in html
    assert re.search(r'<form[^>]*action="/search/"', html)
    assert 'href="/c/electronics/"' in html  # somewhere to go next
    assert response.headers["Content-Type"].startswith("text/html")


def test_unknown_api_url_returns_a_json_404(client):
    response = client.get("/api/v1/nope/")

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "not_found"
    assert body["detail"]


def test_server_error_page_renders_without_the_database(rf, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = server_error(rf.get("/"))

    assert response.status_code == 500
    html = _html(response)
    assert "Something went wrong on our side" in html
    assert 'href="/static/css/shop.css"' in html
    assert 'action="/search/"' in html
    assert not re.search(r"https?://", html)


def test_csrf_failure_renders_the_form_expired_page(client):
    csrf_client = client.__class__(enforce_csrf_checks=True)

    response = csrf_client.post("/help/", {"anything": "1"})

    assert response.status_code == 403
    assert "That form has expired" in _html(response)
