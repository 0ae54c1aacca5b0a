"""Journey 1 of issue #8, as far as the shop goes today: a guest finds a T-shirt through a category and
a narrowed search, picks a size and colour, adds it to the cart, signs up, and finds the cart in the new
account. The checkout steps are appended to ``test_guest_buys`` when the checkout pages exist: each step
is a function of the same ``Journey``, so the test reads as the story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from e2e import helpers
from e2e.catalogue import Catalogue
from e2e.helpers import Visitor

expect = pytest.importorskip("playwright.sync_api", reason=helpers.PLAYWRIGHT_MISSING).expect
if TYPE_CHECKING:
    from playwright.sync_api import Page


@dataclass
class Journey:
    """One buyer going through the shop, with the screenshots of each step."""

    visitor: Visitor
    shots: helpers.Screenshots
    catalogue: Catalogue

    @property
    def page(self) -> Page:
        return self.visitor.page

    def step(self, name: str) -> None:
        """The end of a step: nothing went wrong in the browser, and both widths are captured."""
        self.visitor.problems.assert_none(name)
        assert not helpers.image_problems(self.page), helpers.image_problems(self.page)
        self.shots.take(self.page, name)

    # --- the steps ---------------------------------------------------------------------------------

    def open_home(self) -> None:
        self.page.goto("/")
        expect(self.page.get_by_role("heading", level=1)).to_be_visible()
        expect(self.page.get_by_role("link", name=re.compile(self.catalogue.tee.title))).to_be_visible()
        self.step("home")

    def browse_category(self) -> None:
        page = self.page
        page.get_by_role("navigation", name="Categories").get_by_role("link", name="Clothing").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Clothing")
        self.step("category-clothing")
        page.get_by_role("main").get_by_role("link", name="T-shirts", exact=True).first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("T-shirts")
        for product in (self.catalogue.tee, self.catalogue.merino, self.catalogue.linen):
            expect(page.get_by_role("main").get_by_role("link", name=product.title).first).to_be_visible()
        expect(page.get_by_role("main").get_by_role("link", name=self.catalogue.mug.title)).to_have_count(0)
        self.step("category-t-shirts")

    def search_and_narrow_by_brand(self) -> None:
        page = self.page
        search = page.get_by_role("banner").get_by_label("Search the shop")
        search.fill("t-shirt")
        search.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text("t-shirt")
        expect(page.locator("#listing-count")).to_have_text("3 products")
        self.step("search-t-shirt")
        page.get_by_role("complementary", name="Filters").get_by_role("checkbox", name=re.compile("Northwind")).click()
        expect(page.locator("#listing-count")).to_have_text("2 products")
        results = page.get_by_role("main").locator(".product-grid")
        expect(results.get_by_role("link", name=self.catalogue.tee.title).first).to_be_visible()
        expect(results.get_by_role("link", name=self.catalogue.merino.title).first).to_be_visible()
        expect(results.get_by_role("link", name=self.catalogue.linen.title)).to_have_count(0)
        assert "brand=Northwind" in page.url
        self.step("search-brand-northwind")

    def open_product(self) -> None:
        page = self.page
        grid = page.get_by_role("main").locator(".product-grid")
        grid.get_by_role("link", name=self.catalogue.tee.title).first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(self.catalogue.tee.title)
        assert page.url.endswith(self.catalogue.tee.url)
        self.step("product")

    def pick_variant(self) -> None:
        page = self.page
        buy_box = page.locator("form.buy-box")
        button = buy_box.get_by_role("button", name="Add to cart")
        # Green L is sold out: the page says so and will not add it
        helpers.choose_options(page, {"Size": "L", "Colour": "Green"})
        expect(buy_box.locator("[data-stock]")).to_contain_text(re.compile("out of stock|sold out", re.I))
        expect(button).to_be_disabled()
        self.step("variant-sold-out")
        helpers.choose_options(page, {"Size": "M", "Colour": "Green"})
        expect(button).to_be_enabled()
        expect(buy_box.locator("[data-price]")).to_have_text("€24.00")
        assert page.locator('select[name="sku"]').input_value() == "NW-TEE-GM"
        self.step("variant-green-m")

    def add_to_cart(self) -> None:
        page = self.page
        assert helpers.cart_count(page) == 0
        helpers.add_to_cart(page, quantity=2)
        assert helpers.cart_count(page) == 1
        self.step("added-to-cart")

    def sign_up(self, email: str) -> None:
        helpers.sign_up(self.page, email=email, password=self.catalogue.password)
        helpers.expect_message(self.page, "Welcome!")
        expect(self.page.get_by_role("banner").get_by_role("link", name="Account")).to_be_visible()
        self.step("signed-up")

    def cart_was_merged(self, email: str) -> None:
        """The guest's line is the account's now: on the cart page, in Redis under the user, and in
        another browser that signs in to the same account."""
        page = self.page
        assert helpers.cart_count(page) == 1
        page.get_by_role("banner").get_by_role("link", name=re.compile("^Cart")).click()
        row = page.get_by_role("row").filter(has_text=self.catalogue.tee.title)
        expect(row).to_have_count(1)
        expect(row).to_contain_text("NW-TEE-GM")
        expect(row.get_by_role("spinbutton")).to_have_value("2")
        expect(page.get_by_text(re.compile(r"Subtotal \(2 items\): €48\.00"))).to_be_visible()
        self.step("cart-after-sign-up")
        assert helpers.orm(_account_cart, email) == [("NW-TEE-GM", 2)]

    # (the checkout steps go here: address, shipping, coupon, card, confirmation, the order's page)


def _account_cart(email: str) -> list[tuple[str, int]]:
    from accounts.models import User
    from cart import selectors
    from cart.store import CartOwner

    user = User.objects.get(email=email)
    return [(line.sku, line.quantity) for line in selectors.cart_get(owner=CartOwner(user=user)).lines]


def test_guest_buys(visitor, catalogue, shots, new_visitor):
    journey = Journey(visitor=visitor, shots=shots, catalogue=catalogue)
    email = "new.buyer@example.com"
    journey.open_home()
    journey.browse_category()
    journey.search_and_narrow_by_brand()
    journey.open_product()
    journey.pick_variant()
    journey.add_to_cart()
    journey.sign_up(email)
    journey.cart_was_merged(email)

    # The cart lives with the account: a second browser with no guest cookie sees it after signing in.
    other = new_visitor()
    other.page.goto("/")
    assert helpers.cart_count(other.page) == 0
    helpers.log_in(other.page, email=email, password=catalogue.password)
    assert helpers.cart_count(other.page) == 1
    other.problems.assert_none("second browser")
