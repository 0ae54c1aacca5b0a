"""The add-to-cart flow by keyboard alone (journey (c) of issue #8): Tab, Enter, arrow keys in a radio
group and typing, as a person without a mouse does it. Every stop of the focus must be visible."""

from __future__ import annotations

import pytest

from e2e import helpers

expect = pytest.importorskip("playwright.sync_api", reason=helpers.PLAYWRIGHT_MISSING).expect


def test_add_to_cart_with_the_keyboard_only(visitor, catalogue, shots):
    page = visitor.page
    keyboard = page.keyboard
    page.goto("/")

    # the first Tab offers the skip link, which jumps past the header to the content
    state = helpers.tab_to(page, lambda s: s["tag"] == "a", what="the skip link", limit=1)
    assert state["text"] == "Skip to content"
    keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # on to the product's card, and open it
    helpers.tab_to(page, lambda s: s["href"] == catalogue.tee.url, what="the T-shirt's card")
    shots.take(page, "home-card-focused")
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(catalogue.tee.title)

    # the size: Tab into the group, arrows move the choice (as in any radio group)
    state = helpers.tab_to(page, lambda s: s["name"] == "option-size", what="the size options")
    assert state["checked"], "Tab should land on the chosen size"
    keyboard.press("ArrowRight")
    assert helpers.focused(page)["value"] == "M"
    state = helpers.tab_to(page, lambda s: s["name"] == "option-colour", what="the colour options", limit=1)
    keyboard.press("ArrowRight")
    assert helpers.focused(page)["value"] == "Green"
    assert page.locator('select[name="sku"]').input_value() == "NW-TEE-GM"
    expect(page.locator("form.buy-box [data-stock]")).to_have_text("In stock")
    shots.take(page, "options-chosen")

    # the quantity, typed; then the button
    helpers.tab_to(page, lambda s: s["label"] == "Quantity", what="the quantity", limit=3)
    keyboard.press("Control+A")
    keyboard.type("2")
    helpers.tab_to(page, lambda s: "Add to cart" in s["text"], what="Add to cart", limit=2)
    keyboard.press("Enter")
    page.wait_for_load_state()
    helpers.expect_message(page, "Added to your cart.")
    assert helpers.cart_count(page) == 1
    shots.take(page, "added")

    # the message can be dismissed from the keyboard (the focus goes to the content), and the cart
    # opened from the header
    helpers.tab_to(page, lambda s: s["text"] == "Dismiss this message", what="the message's close button")
    keyboard.press("Enter")
    expect(page.locator(".messages")).to_have_count(0)
    assert page.evaluate("document.activeElement.id") == "main"
    helpers.tab_to(page, lambda s: s["href"] == "/cart/", what="the cart link", backwards=True)
    keyboard.press("Enter")
    row = page.get_by_role("row").filter(has_text=catalogue.tee.title)
    expect(row).to_contain_text("NW-TEE-GM")
    expect(row.get_by_role("spinbutton")).to_have_value("2")
    visitor.problems.assert_none()
    shots.take(page, "cart")
