"""Journeys 2 to 4 of issue #8, after a first order:

2. a declined card says so clearly and paying again with a good card succeeds; an abandoned checkout
   gives its reserved stock back at once;
3. a seller signs into the Seller Centre (/seller/), sees only its own part of an order with two sellers
   (the other seller's part is a 404 even by its URL), ships it with a carrier and tracking number, and
   the buyer sees "Shipped" with the tracking number;
4. the buyer cancels an order that has not shipped and sees the refund.

The orders that journeys 3 and 4 start from are placed through the real checkout (cart, reservation,
sandbox payment) by ``e2e.catalogue.order_place``: journey 1 already drives that checkout by hand.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from e2e import helpers
from e2e.catalogue import available, order_place
from e2e.helpers import CardWatch, orm

expect = pytest.importorskip("playwright.sync_api", reason=helpers.PLAYWRIGHT_MISSING).expect
if TYPE_CHECKING:
    from playwright.sync_api import Page

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
DECLINED = "Your card was declined. Try another card."


def checkout_to_payment(page: Page) -> int:
    """From the cart in the header to the payment page with the saved address and standard shipping;
    returns the checkout's id (from the payment page's address)."""
    page.get_by_role("banner").get_by_role("link", name=re.compile("^Cart")).click()
    page.get_by_role("main").get_by_role("link", name="Checkout").click()
    heading = page.get_by_role("heading", level=1)
    # the first time through, each step; afterwards the checkout remembers them and opens the review
    expect(heading).to_have_text(re.compile("Where should we deliver?|Review your order"))
    if heading.inner_text() == "Where should we deliver?":
        expect(page.get_by_role("radio", checked=True)).to_have_count(1)  # the saved address, chosen
        page.get_by_role("button", name="Continue to shipping").click()
        expect(heading).to_have_text("How should it ship?")
        page.get_by_role("button", name="Continue to review").click()
    expect(heading).to_have_text("Review your order")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment")
    found = re.search(r"/checkout/(\d+)/pay/$", page.url)
    assert found, page.url
    return int(found.group(1))


def _sub_orders(number: str) -> dict[str, int]:
    """The order's sub-order ids by the seller's store name."""
    from orders.models import SubOrder

    return dict(SubOrder.objects.filter(order__number=number).values_list("seller__store_name", "pk"))


def _order_total(number: str) -> str:
    from orders.models import Order

    return f"€{Order.objects.get(number=number).total}"


def _emails_about(number: str, to: str) -> list[str]:
    return [m.subject for m in helpers.sent_emails() if number in m.subject and m.to == [to]]


def test_declined_card_then_a_good_one_and_an_abandoned_checkout(visitor, catalogue, shots):
    page, problems = visitor.page, visitor.problems
    cards = (DECLINED_CARD, GOOD_CARD)
    watch = CardWatch(secrets=(*cards, *(card.replace(" ", "") for card in cards), "12/30", "12%2F30"))
    watch.watch(visitor.context)
    page.goto("/")
    helpers.log_in(page, email=catalogue.buyer_email, password=catalogue.password)
    page.goto(catalogue.mug.url)
    helpers.add_to_cart(page)
    checkout_id = checkout_to_payment(page)
    assert orm(available, "HB-MUG") == 19  # reserved while the buyer pays
    helpers.check_and_shoot(visitor, shots, "payment")

    # a declined card: the page says so next to the card form, keeps the reservation, and posts no number
    helpers.fill_card(page, DECLINED_CARD)
    problems.expect(f"/checkout/{checkout_id}/pay/", 402)  # the payment page with the error answers 402
    page.get_by_role("button", name=re.compile(r"^Pay €")).click()
    expect(page.get_by_role("alert")).to_have_text(DECLINED)
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment")
    expect(page.get_by_label("Card number", exact=True)).to_have_value("")  # nothing typed comes back
    assert orm(available, "HB-MUG") == 19
    helpers.check_and_shoot(visitor, shots, "card-declined")

    # the same checkout, paid with a good card
    helpers.fill_card(page, GOOD_CARD)
    page.get_by_role("button", name=re.compile(r"^Pay €")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order")
    number = page.locator(".order-number").inner_text()
    watch.assert_not_sent()
    assert orm(available, "HB-MUG") == 19  # sold now
    helpers.check_and_shoot(visitor, shots, "paid-with-another-card")
    assert _emails_about(number, catalogue.buyer_email) == [f"Your order {number} is confirmed"]

    # another checkout, abandoned on the payment page: the two merino T-shirts are on sale again at once
    before = orm(available, "NW-MERINO-M")
    page.goto(catalogue.merino.url)
    helpers.add_to_cart(page, quantity=2)
    checkout_to_payment(page)
    assert orm(available, "NW-MERINO-M") == before - 2
    helpers.check_and_shoot(visitor, shots, "payment-before-abandoning")
    page.get_by_role("button", name="Abandon checkout").click()
    helpers.expect_message(page, "Checkout abandoned: nothing was charged")
    assert orm(available, "NW-MERINO-M") == before
    row = page.get_by_role("row").filter(has_text=catalogue.merino.title)
    expect(row.get_by_role("spinbutton")).to_have_value("2")  # still in the cart
    helpers.check_and_shoot(visitor, shots, "abandoned")


def test_seller_ships_its_own_part_and_the_buyer_sees_it(new_visitor, catalogue, shots):
    number = orm(order_place, email=catalogue.buyer_email, items=[("NW-TEE-BM", 1), ("HB-MUG", 2)])
    parts = orm(_sub_orders, number)
    own, other = parts["Northwind Goods"], parts["Harbour Home"]

    seller = new_visitor()
    page = seller.page
    page.goto("/seller/")  # the shop's own log-in page, then back to the Seller Centre
    assert "/accounts/login/" in page.url
    page.get_by_label("Email address", exact=True).fill(catalogue.seller_email)
    page.get_by_label("Password", exact=True).fill(catalogue.password)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    expect(page).to_have_title(re.compile("Seller Centre"))
    helpers.check_and_shoot(seller, shots, "seller-centre")

    page.get_by_role("link", name=re.compile(r"^Sub.?orders$", re.I)).first.click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)  # Harbour Home's part of the same order is not listed
    expect(rows).to_contain_text(f"{number}-{own}")
    helpers.check_and_shoot(seller, shots, "seller-sub-orders")

    other_url = f"/seller/orders/suborder/{other}/change/"
    seller.problems.expect(other_url, 404)
    assert page.goto(other_url).status == 404
    seller.problems.assert_none("another seller's sub-order")

    page.goto("/seller/orders/suborder/")
    rows.first.get_by_role("link").first.click()
    expect(page.locator("#content")).to_contain_text(number)
    expect(page.locator("#content")).to_contain_text("NW-TEE-BM")
    expect(page.locator("#content")).not_to_contain_text("HB-MUG")
    helpers.check_and_shoot(seller, shots, "seller-sub-order")
    page.get_by_role("link", name="Ship…").click()
    page.get_by_label("Carrier").fill("DHL")
    page.get_by_label("Tracking number").fill("JD0146000031")
    helpers.check_and_shoot(seller, shots, "seller-ship-form")
    page.get_by_role("button", name="Mark shipped").click()
    expect(page.locator(".messagelist")).to_contain_text("Shipped")
    helpers.check_and_shoot(seller, shots, "seller-shipped")

    buyer = new_visitor()
    page = buyer.page
    page.goto("/")
    helpers.log_in(page, email=catalogue.buyer_email, password=catalogue.password)
    helpers.open_order(page, number)
    northwind = page.locator("section.package").filter(has_text="Northwind Goods")
    expect(northwind.locator(".badge")).to_have_text("Shipped")
    expect(northwind.locator(".tracking")).to_contain_text("DHL")
    expect(northwind.locator(".tracking")).to_contain_text("JD0146000031")
    harbour = page.locator("section.package").filter(has_text="Harbour Home")
    expect(harbour.locator(".badge")).to_have_text("Confirmed")
    expect(page.locator(".timeline")).to_contain_text("Northwind Goods: Shipped")
    helpers.check_and_shoot(buyer, shots, "buyer-sees-shipped")
    assert f"Your parcel from Northwind Goods is on its way (order {number})" in _emails_about(
        number, catalogue.buyer_email
    )


def test_buyer_cancels_an_order_and_sees_the_refund(visitor, catalogue, shots):
    before = orm(available, "NW-MERINO-M")
    number = orm(order_place, email=catalogue.buyer_email, items=[("NW-MERINO-M", 1)])
    total = orm(_order_total, number)
    assert orm(available, "NW-MERINO-M") == before - 1

    page = visitor.page
    page.goto("/")
    helpers.log_in(page, email=catalogue.buyer_email, password=catalogue.password)
    helpers.open_order(page, number)
    expect(page.locator(".order-header .badge")).to_have_text("Confirmed")
    helpers.check_and_shoot(visitor, shots, "order-before-cancelling")

    page.get_by_role("button", name="Cancel order").click()
    helpers.expect_message(page, "Your order is cancelled.")
    expect(page.locator(".order-header .badge")).to_have_text("Cancelled")
    refunds = page.get_by_role("region", name="Refunds")
    expect(refunds).to_contain_text(total)
    expect(page.get_by_role("main")).to_contain_text(f"Refunded: {total}")
    expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)
    helpers.check_and_shoot(visitor, shots, "cancelled-and-refunded")
    assert orm(available, "NW-MERINO-M") == before  # back on sale

    subjects = _emails_about(number, catalogue.buyer_email)
    assert f"Your order {number} was cancelled" in subjects, subjects
    assert f"Refund of {total} for order {number}" in subjects, subjects
