from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth import user_logged_in
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import Client, RequestFactory

from accounts.tests.factories import PASSWORD
from cart import context_processors, selectors, services
from cart.selectors import GUEST_COOKIE, CartOwner
from sellers.models import Seller

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def html(response) -> str:
    return response.content.decode()


def csrf_from(client: Client, path: str) -> str:
    match = TOKEN.search(html(client.get(path)))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def guest_owner(client: Client) -> CartOwner:
    request = RequestFactory().get("/")
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    return CartOwner(guest_id=selectors.guest_id_from_request(request))


def test_the_product_pages_form_adds_to_the_cart_and_goes_back_with_a_message(make_variant):
    variant = make_variant(title="Desk lamp", on_hand=5)
    client = Client(enforce_csrf_checks=True)
    page = html(client.get(f"/p/{variant.product.slug}/"))
    form = re.search(r'<form class="buy-box" method="post" action="([^"]+)"', page)
    assert form
    assert form.group(1) == "/cart/items/"
    assert f'name="sku" value="{variant.sku}"' in page
    assert 'name="quantity"' in page

    response = client.post(
        "/cart/items/",
        {"csrfmiddlewaretoken": TOKEN.search(page).group(1), "sku": variant.sku, "quantity": "2"},
        HTTP_REFERER=f"http://testserver/p/{variant.product.slug}/",
    )

    assert response.status_code == 302
    assert response["Location"] == f"http://testserver/p/{variant.product.slug}/"
    assert response.cookies[GUEST_COOKIE]["httponly"]
    assert "Added to your cart." in html(client.get(response["Location"]))
    cart = html(client.get("/cart/"))
    assert "Desk lamp" in cart
    assert f'href="/p/{variant.product.slug}/"' in cart


def test_adding_without_a_referer_goes_to_the_cart(make_variant):
    variant = make_variant()
    client = Client()

    response = client.post("/cart/items/", {"sku": variant.sku, "quantity": "1"}, HTTP_REFERER="https://evil.example/")

    assert response["Location"] == "/cart/"


def test_the_add_form_needs_the_csrf_token(make_variant):
    variant = make_variant()

    response = Client(enforce_csrf_checks=True).post("/cart/items/", {"sku": variant.sku, "quantity": "1"})

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("quantity", "message"),
    [("abc", "whole number"), ("0", "from 1 to 20"), ("-1", "from 1 to 20"), (str(10**9), "from 1 to 20")],
)
def test_a_bad_quantity_goes_back_with_an_error(make_variant, quantity, message):
    variant = make_variant()
    client = Client()

    response = client.post("/cart/items/", {"sku": variant.sku, "quantity": quantity}, follow=True)

    assert message in html(response)
    assert GUEST_COOKIE not in client.cookies  # nothing added: no cart, no cookie


def test_out_of_stock_and_unknown_skus_go_back_with_an_error(make_variant):
    variant = make_variant(on_hand=1)
    client = Client()

    assert "not that many are available" in html(
        client.post("/cart/items/", {"sku": variant.sku, "quantity": "2"}, follow=True)
    )
    assert "No product on sale has the SKU" in html(
        client.post("/cart/items/", {"sku": "NOPE", "quantity": "1"}, follow=True)
    )


def test_adding_too_fast_gives_a_message(make_variant, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "cart_add_ip": "1/m"}
    variant = make_variant()
    client = Client()
    client.post("/cart/items/", {"sku": variant.sku, "quantity": "1"})

    response = client.post("/cart/items/", {"sku": variant.sku, "quantity": "1"}, follow=True)

    assert "adding to your cart too fast" in html(response)
    assert selectors.cart_get(owner=guest_owner(client)).lines[0].quantity == 1


def test_the_cart_page_shows_price_changes_removed_items_subtotal_and_a_disabled_checkout(make_variant, user):
    changed = make_variant(price="10.00", title="Kettle")
    delisted = make_variant(title="Old toaster")
    owner = CartOwner(user=user)
    services.cart_line_add(owner=owner, sku=changed.sku, quantity=2)
    services.cart_line_add(owner=owner, sku=delisted.sku, quantity=1)
    changed.price = Decimal("12.00")
    changed.save()
    Seller.objects.filter(pk=delisted.product.seller_id).update(status=Seller.Status.SUSPENDED)
    client = Client()
    client.force_login(user)

    page = html(client.get("/cart/"))

    assert "The price of Kettle changed from €10.00 to €12.00" in page
    assert "Old toaster" in page
    assert "removed from your cart" in page
    assert "€24.00" in page
    assert '<a class="button primary" href="/checkout/">Checkout</a>' in page
    assert "Old toaster" not in html(client.get("/cart/"))  # reported once


def test_an_empty_cart_page(client):
    page = html(client.get("/cart/"))

    assert "Your cart is empty" in page
    assert "Checkout" not in page


def test_the_update_and_remove_forms_change_the_cart(make_variant, user):
    variant = make_variant(on_hand=10)
    owner = CartOwner(user=user)
    services.cart_line_add(owner=owner, sku=variant.sku, quantity=1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    token = csrf_from(client, "/cart/")

    response = client.post(f"/cart/items/{variant.sku}/", {"csrfmiddlewaretoken": token, "quantity": "3"})
    assert response.status_code == 302
    assert response["Location"] == "/cart/"
    assert selectors.cart_get(owner=owner).lines[0].quantity == 3

    assert "not that many" in html(
        client.post(f"/cart/items/{variant.sku}/", {"csrfmiddlewaretoken": token, "quantity": "11"}, follow=True)
    )
    assert client.post(f"/cart/items/{variant.sku}/", {"quantity": "1"}).status_code == 403  # no token

    client.post(f"/cart/items/{variant.sku}/remove/", {"csrfmiddlewaretoken": token})
    assert selectors.cart_get(owner=owner).lines == []
    assert client.post(f"/cart/items/{variant.sku}/remove/", {"csrfmiddlewaretoken": token}).status_code == 302


def test_the_page_log_in_merges_the_guest_cart(make_variant, user):
    variant = make_variant()
    client = Client()
    client.post("/cart/items/", {"sku": variant.sku, "quantity": "2"})
    guest = guest_owner(client)

    response = client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert [(line.sku, line.quantity) for line in selectors.cart_get(owner=CartOwner(user=user)).lines] == [
        (variant.sku, 2)
    ]
    assert selectors.cart_line_count(owner=guest) == 0
    assert variant.product.title in html(client.get("/cart/"))


def test_a_log_in_without_a_request_or_cookie_is_left_alone(user, rf):
    user_logged_in.send(sender=type(user), request=None, user=user)
    user_logged_in.send(sender=type(user), request=rf.get("/"), user=user)


def test_a_log_in_while_redis_is_down_still_signs_in(make_variant, user, settings):
    variant = make_variant()
    client = Client()
    client.post("/cart/items/", {"sku": variant.sku, "quantity": "1"})
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}

    response = client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 302


# --- Redis down ----------------------------------------------------------------------------------


def test_without_redis_the_cart_pages_say_so_with_503_and_browsing_works(make_variant, user, redis_down):
    variant = make_variant(title="Chair")
    client = Client()
    client.force_login(user)

    page = client.get("/cart/")
    assert page.status_code == 503
    assert "Your cart is unavailable right now" in html(page)
    added = client.post("/cart/items/", {"sku": variant.sku, "quantity": "1"})
    assert added.status_code == 503

    product = client.get(f"/p/{variant.product.slug}/")
    assert product.status_code == 200
    assert "Chair" in html(product)


def test_without_redis_a_durable_cart_page_is_read_only(make_variant, business_user, settings):
    variant = make_variant(title="Printer paper")
    services.cart_line_add(owner=CartOwner(user=business_user), sku=variant.sku, quantity=5)
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}
    client = Client()
    client.force_login(business_user)

    response = client.get("/cart/")

    assert response.status_code == 200
    assert "Printer paper" in html(response)
    assert "cannot be changed right now" in html(response)
    assert re.search(r'name="quantity" value="5"[^>]* disabled', html(response))


# --- the header count ----------------------------------------------------------------------------


def test_the_context_processor_counts_lines_and_is_zero_without_redis(make_variant, user, rf, settings):
    owner = CartOwner(user=user)
    for variant in (make_variant(), make_variant()):
        services.cart_line_add(owner=owner, sku=variant.sku, quantity=3)
    request = rf.get("/")
    request.user = user

    template = Template("{{ cart_count|default:0 }}")
    assert template.render(Context(context_processors.cart_count(request))) == "2"

    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}
    assert template.render(Context(context_processors.cart_count(request))) == "0"


def test_a_guest_cookie_names_the_guests_cart_for_the_count(make_variant, rf):
    variant = make_variant()
    client = Client()
    client.post("/cart/items/", {"sku": variant.sku, "quantity": "1"})
    request = rf.get("/")
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    request.user = AnonymousUser()

    assert selectors.cart_count_for_request(request) == 1
    request.COOKIES[GUEST_COOKIE] = "tampered" + request.COOKIES[GUEST_COOKIE]
    assert selectors.cart_count_for_request(request) == 0


def test_header_cart_count_follows_the_guest_cart_on_cached_pages(client, make_variant):
    first, second = make_variant(), make_variant()
    client.get("/")  # the page is cached for everyone from here on
    assert '<span class="cart-count">0</span>' in client.get("/").content.decode()

    client.post("/cart/items/", {"sku": first.sku, "quantity": 2})
    client.post("/cart/items/", {"sku": second.sku, "quantity": 1})

    assert '<span class="cart-count">2</span>' in client.get("/").content.decode()  # lines in the cart
    assert '<span class="cart-count">0</span>' in Client().get("/").content.decode()  # another visitor's header
