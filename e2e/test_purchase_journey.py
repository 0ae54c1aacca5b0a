"""Journey 1 of issue #8: a guest finds a T-shirt through a category and a narrowed search, picks a
size and colour, adds it to the cart, signs up and finds the cart in the new account; then checks out
with a saved address, express shipping, the WELCOME10 coupon and a sandbox card typed into the payment
form (whose number never reaches the shop), sees the confirmation, the order with its timeline in the
account, and the receipt in the email outbox. Each step is a method of the same ``Journey``, so the
test reads as the story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import pytest

from e2e import helpers
from e2e.catalogue import Catalogue
from e2e.helpers import CardWatch, Visitor

expect = pytest.importorskip("playwright.sync_api", reason=helpers.PLAYWRIGHT_MISSING).expect
if TYPE_CHECKING:
    from playwright.sync_api import Page


@dataclass
class Journey:
    """One buyer going through the shop, with the screenshots of each step."""

    visitor: Visitor
    shots: helpers.Screenshots
    catalogue: Catalogue
    order_number: str = field(default="")

    @property
    def page(self) -> Page:
        return self.visitor.page

    def step(self, name: str) -> None:
        """The end of a step: nothing went wrong in the browser, and both widths are captured."""
        helpers.check_and_shoot(self.visitor, self.shots, name)

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

    def enter_new_address(self) -> None:
        """From the cart to the first step: a new buyer has no address yet and types one, which is
        saved to the account."""
        page = self.page
        page.get_by_role("main").get_by_role("link", name="Checkout").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Where should we deliver?")
        expect(page.get_by_label("A new address")).to_be_checked()
        self.step("checkout-address-new")
        for label, value in ADDRESS.items():
            page.get_by_label(label, exact=True).fill(value)
        page.get_by_role("button", name="Continue to shipping").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("How should it ship?")

    def pick_saved_address(self) -> None:
        """Back to the address step: the address just typed is offered as a saved one, chosen."""
        page = self.page
        page.get_by_role("main").get_by_role("link", name="change").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Where should we deliver?")
        saved = page.locator("label.choice").filter(has_text=ADDRESS["Address line 1"])
        expect(saved).to_contain_text(ADDRESS["Full name"])
        expect(saved.get_by_role("radio")).to_be_checked()
        self.step("checkout-address-saved")
        saved.click()
        page.get_by_role("button", name="Continue to shipping").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("How should it ship?")
        expect(page.get_by_role("main")).to_contain_text(f"{ADDRESS['Postal code']} {ADDRESS['City']}")

    def choose_express_shipping(self) -> None:
        page = self.page
        express = page.locator("label.choice").filter(has_text="Express delivery")
        expect(express).to_contain_text("€9.90")
        express.click()
        expect(express.get_by_role("radio")).to_be_checked()
        self.step("checkout-shipping")
        page.get_by_role("button", name="Continue to review").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Review your order")

    def apply_coupon(self) -> None:
        """A code that does not exist is refused next to the field; WELCOME10 takes 10% off."""
        page = self.page
        coupon = page.get_by_label("Coupon code", exact=True)
        coupon.fill("NOSUCHCODE")
        self.visitor.problems.expect("/checkout/coupon/", 400)  # the form with its error answers 400
        page.get_by_role("button", name="Apply").click()
        assert helpers.field_error(page, "Coupon code")
        self.step("checkout-coupon-unknown")
        page.get_by_label("Coupon code", exact=True).fill("welcome10")
        page.get_by_role("button", name="Apply").click()
        helpers.expect_message(page, "Coupon WELCOME10 applied.")
        assert helpers.totals(page) == EXPECTED_TOTALS, helpers.totals(page)
        self.step("checkout-review-coupon")

    def pay_by_card(self) -> None:
        """The card's digits are typed into the form; sandbox.js turns them into a token, and no
        request to the shop carries the number, the expiry or the code."""
        page = self.page
        watch = CardWatch(secrets=(CARD, CARD.replace(" ", ""), "12/30", "12%2F30"))
        watch.watch(self.visitor.context)
        page.get_by_role("button", name="Continue to payment").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Payment")
        expect(page.locator(".reservation")).to_contain_text("reserved for")
        helpers.fill_card(page, CARD)
        self.step("payment-card-typed")
        page.get_by_role("button", name=f"Pay {EXPECTED_TOTALS['Total']}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order")
        watch.assert_not_sent()
        # what the payment form did send: the sandbox token made in the browser, and no card field
        payment = [body for url, body in watch.posts if re.search(r"/checkout/\d+/pay/$", url)]
        assert len(payment) == 1, watch.posts
        fields = parse_qs(payment[0])
        assert set(fields) == {"csrfmiddlewaretoken", "idempotency_key", "payment_token"}, fields
        assert fields["payment_token"] == ["tok_visa"]
        self.order_number = page.locator(".order-number").inner_text()
        assert re.fullmatch(r"[A-Z0-9-]{6,}", self.order_number), self.order_number
        part = page.locator("section.package").filter(has_text="Northwind Goods")
        for label in ("Discount", "Shipping", "Tax"):  # the part's sum adds up on the page
            expect(part).to_contain_text(EXPECTED_TOTALS[label if label != "Discount" else "Discount (WELCOME10)"])
        expect(part).to_contain_text(EXPECTED_TOTALS["Total"])
        self.step("confirmation")

    def order_in_the_account(self) -> None:
        """Account -> Your orders -> the order: its status, its lines and its timeline."""
        page = self.page
        page.get_by_role("banner").get_by_role("link", name="Account").click()
        self.step("account")
        page.get_by_role("main").get_by_role("link", name="Your orders").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your orders")
        row = page.get_by_role("row").filter(has_text=self.order_number)
        expect(row).to_contain_text(EXPECTED_TOTALS["Total"])
        self.step("orders-list")
        row.get_by_role("link", name=self.order_number).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {self.order_number}")
        part = page.locator("section.package").filter(has_text="Northwind Goods")
        expect(part.locator(".badge")).to_have_text("Confirmed")
        expect(part.get_by_role("row").filter(has_text="NW-TEE-GM")).to_contain_text("€48.00")  # 2 x €24.00
        timeline = page.locator(".timeline .timeline-entry")
        assert timeline.count() >= 2, timeline.all_inner_texts()
        expect(page.locator(".timeline")).to_contain_text(re.compile("confirmed", re.I))
        assert helpers.totals(page) == EXPECTED_TOTALS, helpers.totals(page)
        self.step("order-page")

    def receipt_was_emailed(self, email: str) -> None:
        """The receipt in the outbox (the live server runs in this process: Django's locmem backend)."""
        about_the_order = [m for m in helpers.sent_emails() if self.order_number in m.subject]
        to_buyer = [m for m in about_the_order if m.to == [email]]
        assert [m.subject for m in to_buyer] == [f"Your order {self.order_number} is confirmed"], [
            (m.to, m.subject) for m in about_the_order
        ]
        receipt = to_buyer[0]
        assert self.order_number in receipt.body
        assert EXPECTED_TOTALS["Total"] in receipt.body
        assert ADDRESS["Address line 1"] in receipt.body  # where it goes
        # and the seller was told what to ship
        to_seller = [m.subject for m in about_the_order if m.to == [self.catalogue.seller_email]]
        assert to_seller == [f"New order {self.order_number}: 2 items to ship"], to_seller


CARD = "4242 4242 4242 4242"
ADDRESS = {
    "Full name": "Noa New",
    "Address line 1": "Kastanienallee 7",
    "Postal code": "10435",
    "City": "Berlin",
    "Country": "DE",
}
# 2 x €24.00; WELCOME10 takes 10%; express ships for €9.90; 19% VAT on 48.00 - 4.80 + 9.90 = 53.10
EXPECTED_TOTALS = {
    "Subtotal": "€48.00",
    "Discount (WELCOME10)": "\u2212€4.80",  # a minus sign
    "Shipping": "€9.90",
    "Tax": f"€{(Decimal('53.10') * Decimal('0.19')).quantize(Decimal('0.01'))}",
    "Total": f"€{Decimal('53.10') + (Decimal('53.10') * Decimal('0.19')).quantize(Decimal('0.01'))}",
}


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

    journey.enter_new_address()
    journey.pick_saved_address()
    journey.choose_express_shipping()
    journey.apply_coupon()
    journey.pay_by_card()
    journey.order_in_the_account()
    journey.receipt_was_emailed(email)
