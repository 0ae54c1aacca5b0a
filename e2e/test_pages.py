"""Every page a visitor can reach from the home page, in a real browser: it renders without console
errors, failed requests or requests to other origins; its images have alt text and sizes; it fits a
phone's width. And the main forms put their errors next to the field they are about.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from urllib.parse import urlsplit

import pytest

from e2e import helpers
from e2e.catalogue import order_place
from e2e.helpers import orm

expect = pytest.importorskip("playwright.sync_api", reason=helpers.PLAYWRIGHT_MISSING).expect

MAX_PAGES = 60
MAX_VARIANTS_PER_PATH = 3  # one path with different queries (sorts, facets, pages) counts at most this often
# Not storefront pages: the admin sites (journey 3 drives the seller's), files, and the API's JSON.
SKIPPED = re.compile(r"^/(admin|seller|media|static)/|^/api/v1/(?!docs/$)")
# Pages of one kind (every product page looks alike): a screenshot of the first of each kind.
KINDS = [
    (re.compile(r"^/p/"), "product"),
    (re.compile(r"^/c/"), "category"),
    (re.compile(r"^/s/"), "seller"),
    (re.compile(r"^/search/"), "search"),
]


def kind_of(path: str) -> str:
    for pattern, kind in KINDS:
        if pattern.search(path):
            return kind
    return path.strip("/").replace("/", "-") or "home"


def search_links(page) -> list[str]:
    """A search box is a way to the pages too: its form's URL with the word "shirt"."""
    actions = page.eval_on_selector_all('form[role="search"]', "forms => forms.map((form) => form.action)")
    return [f"{action.split('?')[0]}?q=shirt" for action in dict.fromkeys(actions)]


def crawl(
    visitor: helpers.Visitor, shots: helpers.Screenshots, *, start: str = "/", within: re.Pattern | None = None
) -> list[str]:
    """Visit the pages reachable from ``start`` breadth first (at most MAX_PAGES) and check each one;
    with ``within``, only links whose path it matches are followed. Returns the paths visited, in order."""
    page = visitor.page
    origin = helpers.origin_of(page.url) if page.url.startswith("http") else None
    queue: deque[str] = deque([start])
    seen: set[str] = {start}
    per_path: Counter[str] = Counter()
    kinds_shot: set[str] = set()
    visited: list[str] = []
    failures: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft()
        response = page.goto(url)
        origin = origin or helpers.origin_of(page.url)
        path = urlsplit(page.url).path
        visited.append(url)
        status = response.status if response else 0
        if status != 200:
            failures.append(f"{url}: HTTP {status}")
        found = visitor.problems.take()
        found += helpers.image_problems(page)
        if not page.title().strip():
            found.append("no <title>")
        page.set_viewport_size(helpers.PHONE)
        overflow = helpers.horizontal_overflow(page)
        page.set_viewport_size(helpers.DESKTOP)
        if overflow:
            found.append(f"wider than a phone: {overflow}")
        failures += [f"{url}: {problem}" for problem in found]
        kind = kind_of(path)
        if kind not in kinds_shot:
            kinds_shot.add(kind)
            shots.take(page, kind)
        for link in helpers.same_origin_links(page) + search_links(page):
            parts = urlsplit(link)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target in seen or SKIPPED.search(parts.path) or per_path[parts.path] >= MAX_VARIANTS_PER_PATH:
                continue
            if within is not None and not within.search(parts.path):
                continue
            seen.add(target)
            per_path[parts.path] += 1
            queue.append(target)
    assert not failures, f"{len(failures)} problems on {len(visited)} pages:\n  " + "\n  ".join(failures)
    return visited


def test_every_page_a_guest_reaches(visitor, catalogue, shots):
    visited = crawl(visitor, shots)
    paths = {urlsplit(url).path for url in visited}
    # the crawl got everywhere that matters (it would pass trivially on a page with no links)
    for expected in (
        catalogue.tee.url,
        catalogue.mug.url,
        "/c/clothing/",
        "/c/clothing/t-shirts/",
        "/search/",
        "/cart/",
        "/accounts/login/",
        "/accounts/signup/",
        "/sell/",
        "/help/",
    ):
        assert expected in paths, f"{expected} not reached from the home page; visited {sorted(paths)}"
    assert any(path.startswith("/s/") for path in paths), "no seller page reached"


# The pages a signed-in buyer sees differently or only signed in (the rest is the guest's crawl).
SIGNED_IN = re.compile(r"^/(accounts|orders|cart|checkout|sell|sellers)/")  # /sell/ leads to the application


def test_every_page_a_buyer_reaches(visitor, catalogue, shots):
    """Signed in, from the account page: addresses, orders and each order's page (a shipped order and
    a cancelled one with its refund), the seller application, the cart."""
    shipped = orm(order_place, email=catalogue.buyer_email, items=[("NW-TEE-BS", 1), ("HB-MUG", 1)])
    orm(_ship_all, shipped)
    cancelled = orm(order_place, email=catalogue.buyer_email, items=[("SP-LINEN-M", 1)])
    orm(_cancel, cancelled, email=catalogue.buyer_email)
    page = visitor.page
    page.goto("/")
    helpers.log_in(page, email=catalogue.buyer_email, password=catalogue.password)
    visited = crawl(visitor, shots, start="/accounts/", within=SIGNED_IN)
    paths = {urlsplit(url).path for url in visited}
    for expected in (
        "/accounts/",
        "/accounts/addresses/",
        "/accounts/addresses/add/",
        "/sellers/apply/",
        "/cart/",
        "/orders/",
        f"/orders/{shipped}/",
        f"/orders/{cancelled}/",
    ):
        assert expected in paths, f"{expected} not reached from the account page; visited {sorted(paths)}"


def _ship_all(number: str) -> None:
    from orders import services
    from orders.models import SubOrder

    for sub_order in SubOrder.objects.filter(order__number=number):
        services.sub_order_ship(sub_order=sub_order, carrier="DHL", tracking_number=f"JD{sub_order.pk:010d}")


def _cancel(number: str, *, email: str) -> None:
    from accounts.models import User
    from orders import selectors, services

    buyer = User.objects.get(email=email)
    order = selectors.order_for_buyer(user=buyer, number=number)
    services.order_cancel(order=order, actor=buyer, reason="cancelled by the buyer")


# --- forms: errors next to the field -------------------------------------------------------------


def test_log_in_form_shows_errors_next_to_the_fields(visitor, catalogue, shots):
    page = visitor.page
    page.goto("/accounts/login/")
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    assert "required" in helpers.field_error(page, "Email address").lower()
    assert "required" in helpers.field_error(page, "Password").lower()
    expect(page.get_by_label("Email address", exact=True)).to_be_focused()  # the first field in error
    shots.take(page, "log-in-empty")

    page.get_by_label("Email address", exact=True).fill("not an address")
    page.get_by_label("Password", exact=True).fill("whatever")
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    assert "valid email" in helpers.field_error(page, "Email address").lower()
    shots.take(page, "log-in-invalid-email")

    # wrong credentials belong to no one field: one alert above the form, and nothing is given away
    page.get_by_label("Email address", exact=True).fill(catalogue.buyer_email)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    expect(page.get_by_role("main").get_by_role("alert")).to_contain_text(re.compile("email|password", re.I))
    expect(page.get_by_label("Email address", exact=True)).to_have_value(catalogue.buyer_email)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    visitor.problems.assert_none()
    shots.take(page, "log-in-wrong-password")


def test_sign_up_form_shows_errors_next_to_the_fields(visitor, catalogue, shots):
    page = visitor.page
    page.goto("/accounts/signup/")
    page.get_by_role("main").get_by_role("button", name="Create account").click()
    assert "required" in helpers.field_error(page, "Email address").lower()
    assert "required" in helpers.field_error(page, "Password").lower()
    shots.take(page, "sign-up-empty")

    page.get_by_label("Email address", exact=True).fill(catalogue.buyer_email)  # taken
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("main").get_by_role("button", name="Create account").click()
    assert helpers.field_error(page, "Email address")
    assert "short" in helpers.field_error(page, "Password").lower()
    expect(page.get_by_label("Email address", exact=True)).to_have_value(catalogue.buyer_email)
    visitor.problems.assert_none()
    shots.take(page, "sign-up-taken-and-short")


def test_address_and_seller_forms_show_errors_next_to_the_fields(visitor, catalogue, shots):
    page = visitor.page
    page.goto("/")
    helpers.log_in(page, email=catalogue.buyer_email, password=catalogue.password)

    page.goto("/accounts/addresses/add/")
    page.get_by_role("main").get_by_role("button", name=re.compile("save|add", re.I)).click()
    for label in ("Full name", "Address line 1", "City", "Postal code"):
        assert "required" in helpers.field_error(page, label).lower()
    shots.take(page, "address-empty")

    page.goto("/sellers/apply/")
    page.get_by_role("main").get_by_role("button", name=re.compile("apply|submit|send", re.I)).click()
    assert "required" in helpers.field_error(page, "Store name").lower()
    visitor.problems.assert_none()
    shots.take(page, "seller-application-empty")
