"""What the browser journeys share: the browser's location, a collector of everything that goes wrong in
a page, screenshots at both widths, the buyer's usual steps (sign up, log in, add to cart) and a way to
reach the database from the test without touching it from the browser's thread.

Playwright's sync API runs an asyncio event loop in the test's thread, and Django refuses ORM calls
from a thread with a running loop. So the data is made before the browser starts (the ``catalogue``
fixture), and a check of the database in the middle of a journey goes through :func:`orm`, which runs
it in a thread of its own with its own connection.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:  # Playwright is imported only where a browser runs (it is skipped without one)
    from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = f"e2e: Chromium not found at {CHROMIUM} (apt-get install chromium)"
PLAYWRIGHT_MISSING = "e2e: Playwright for Python is not installed (pip install -r requirements-dev.txt)"
# Where the screenshots go: var/e2e-screenshots/, or E2E_SCREENSHOTS (CI's artifacts folder, or a
# folder of one's own while someone else runs the suite in the same checkout).
SCREENSHOTS = Path(
    os.environ.get("E2E_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "var" / "e2e-screenshots"
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# How long one step may wait for the page (ms). Generous: CI shares two cores with the database.
TIMEOUT_MS = 15_000

T = TypeVar("T")


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return CHROMIUM_MISSING
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return PLAYWRIGHT_MISSING
    return None


def orm(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``function`` (ORM calls) in a thread of its own, away from the browser's event loop, and
    return its result. The thread's database connection is closed when it is done."""

    def run() -> T:
        from django.db import connections

        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Problems:
    """What went wrong in a browser context, as it happens: console errors, uncaught exceptions,
    requests that failed or answered 4xx/5xx, and any request to another origin (which is refused
    before it leaves the browser). ``assert_none()`` fails the test with all of them."""

    origin: str
    found: list[str] = field(default_factory=list)
    # responses whose status is expected (a 404 page that a test opens on purpose): (path, status)
    expected: set[tuple[str, int]] = field(default_factory=set)

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self._console)
        context.on("weberror", lambda error: self.found.append(f"uncaught error: {error.error}"))
        context.on("requestfailed", self._request_failed)
        context.on("response", self._response)
        context.route("**/*", self._route)

    def expect(self, path: str, status: int) -> None:
        """A response that is not a problem: ``path`` answering ``status`` (a test opening a 404 page)."""
        self.expected.add((path, status))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            text = message.text
            location = message.location.get("url", "") if message.location else ""
            if text.startswith("Failed to load resource") and self._expected_url(location):
                return
            self.found.append(f"console error on {message.page.url if message.page else '?'}: {text} ({location})")

    def _request_failed(self, request: Request) -> None:
        if origin_of(request.url) != self.origin:
            return  # refused by _route, already recorded
        failure = request.failure or ""
        if "ERR_ABORTED" in failure:
            return  # cancelled by the page itself: a fetch replaced by the next keystroke's, or a navigation
        self.found.append(f"request failed: {request.method} {request.url} ({failure})")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and not self._expected_url(response.url, response.status):
            self.found.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def _expected_url(self, url: str, status: int | None = None) -> bool:
        path = urlsplit(url).path
        return any(path == p and (status is None or status == s) for p, s in self.expected)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or origin_of(url) == self.origin:
            route.continue_()
        else:
            self.found.append(f"request to another origin: {route.request.method} {url}")
            route.abort("blockedbyclient")

    def take(self) -> list[str]:
        found, self.found = self.found, []
        return found

    def assert_none(self, where: str = "") -> None:
        found = self.take()
        assert not found, f"problems in the browser{f' ({where})' if where else ''}:\n  " + "\n  ".join(found)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "step"


class Screenshots:
    """Full-page screenshots of each step at desktop (1280 px) and phone (390 px) width, written to
    ``var/e2e-screenshots/<test>/<nn>-<step>-<width>.png`` (the folder is emptied when a test starts)."""

    def __init__(self, test_name: str, root: Path = SCREENSHOTS):
        self.directory = root / _slug(test_name)
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def take(self, page: Page, step: str) -> list[Path]:
        """Both widths of the page as it is now; the viewport is put back afterwards. Fails when the
        page is wider than the phone's screen (something sticks out and scrolls sideways)."""
        self.count += 1
        original = page.viewport_size or DESKTOP
        paths = []
        try:
            for size in (DESKTOP, PHONE):
                page.set_viewport_size(size)
                path = self.directory / f"{self.count:02d}-{_slug(step)}-{size['width']}.png"
                page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
                paths.append(path)
                if size is PHONE:
                    overflow = horizontal_overflow(page)
                    assert not overflow, f"{step}: wider than a {PHONE['width']} px phone: {overflow}"
        finally:
            page.set_viewport_size(original)
        return paths


@dataclass
class Visitor:
    """One person's browser window: its context (cookies), its page, and the problems seen in it."""

    context: BrowserContext
    page: Page
    problems: Problems


@dataclass
class CardWatch:
    """Every request of a browser context to the shop, checked for card data: ``secrets`` (the card
    number typed, with and without spaces, the expiry) must appear in no URL and no request body."""

    secrets: tuple[str, ...]
    posts: list[tuple[str, str]] = field(default_factory=list)  # the (URL, body) of each POST seen
    leaks: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        context.on("request", self._request)

    def _request(self, request: Request) -> None:
        body = request.post_data or ""
        if request.method == "POST":
            self.posts.append((request.url, body))
        for secret in self.secrets:
            if secret in body or secret in request.url:
                self.leaks.append(f"{request.method} {request.url} carries {secret!r}")

    def assert_not_sent(self) -> None:
        assert not self.leaks, "card data left the browser:\n  " + "\n  ".join(self.leaks)


def sent_emails() -> list:
    """The emails sent so far in this test: the live server runs in this process, and pytest-django
    swaps in Django's locmem backend, so they are in ``django.core.mail.outbox``."""
    from django.core import mail

    return list(getattr(mail, "outbox", []))


# --- checks of a page ---------------------------------------------------------------------------

_OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const culprits = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width && box.right > width + 1 && getComputedStyle(element).position !== "fixed") {
      const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
        + (element.className && typeof element.className === "string"
           ? "." + element.className.trim().split(/\\s+/).join(".") : "");
      culprits.push(`${name} (right edge ${Math.round(box.right)} px)`);
    }
  }
  return culprits.slice(0, 8);
}"""


def horizontal_overflow(page: Page) -> list[str]:
    """The elements that stick out past the right edge of the viewport (empty when nothing does)."""
    return page.evaluate(_OVERFLOW_JS)


_IMAGES_JS = """() => Array.from(document.images).flatMap((image) => {
  const missing = [];
  if (!image.hasAttribute("alt")) missing.push("alt");
  if (!image.getAttribute("width")) missing.push("width");
  if (!image.getAttribute("height")) missing.push("height");
  const lazy = image.getAttribute("loading") === "lazy";
  if (image.complete && image.naturalWidth === 0 && !lazy) missing.push("a picture (broken)");
  return missing.length ? [`<img src="${image.getAttribute("src")}"> has no ${missing.join(", ")}`] : [];
})"""


def image_problems(page: Page) -> list[str]:
    """Images without an alt attribute (empty is right for decoration), without width and height
    (the page jumps as they load), or that failed to load."""
    return page.evaluate(_IMAGES_JS)


def same_origin_links(page: Page) -> list[str]:
    """The absolute URLs of the page's links to its own origin, without fragments, in page order."""
    origin = origin_of(page.url)
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)")
    links = []
    for href in hrefs:
        url = href.split("#", 1)[0]
        if url and origin_of(url) == origin and url not in links:
            links.append(url)
    return links


def field_error(page: Page, label: str) -> str:
    """The error shown for the field labelled ``label``. Fails unless it sits in the same ``.field`` as
    its input, the input is marked aria-invalid, and its aria-describedby names the error (so a screen
    reader reads the error with the field)."""
    control = page.get_by_label(label, exact=True)
    wrapper = control.locator("xpath=ancestor::*[contains(concat(' ', @class, ' '), ' field ')][1]")
    errors = wrapper.locator(".field-error")
    assert errors.count() > 0, f"no error next to the field {label!r}"
    assert control.get_attribute("aria-invalid") == "true", f"the field {label!r} is not marked invalid"
    described_by = (control.get_attribute("aria-describedby") or "").split()
    named = [
        element_id
        for element_id in described_by
        if page.locator(f'[id="{element_id}"]').locator(".field-error").count()
        or "field-error" in (page.locator(f'[id="{element_id}"]').get_attribute("class") or "")
    ]
    assert named, f"the field {label!r} (aria-describedby={described_by}) does not name its error"
    return " ".join(errors.all_inner_texts())


# --- a buyer's steps ----------------------------------------------------------------------------


def sign_up(page: Page, *, email: str, password: str) -> None:
    """Create an account from the header's link; ends on the page the sign-up leads to."""
    page.get_by_role("banner").get_by_role("link", name="Create account").click()
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()
    errors = page.locator(".field-error, .alert-error")
    assert "/accounts/signup/" not in page.url, f"still on the sign-up page: {errors.all_inner_texts()}"


def log_in(page: Page, *, email: str, password: str) -> None:
    """Sign in from the header's link; ends on the page the log-in leads to."""
    page.get_by_role("banner").get_by_role("link", name="Sign in").click()
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, "still on the log-in page"


def log_out(page: Page) -> None:
    page.get_by_role("banner").get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def choose_options(page: Page, options: dict[str, str]) -> None:
    """Pick a variant on a product page: each option (legend) set to its value, by clicking the value's
    button as a person does (the radio behind it is checked)."""
    buy_box = page.locator("form.buy-box")
    for legend, value in options.items():
        group = buy_box.get_by_role("group", name=legend)
        group.locator("label.option").filter(has_text=re.compile(f"^{re.escape(value)}$")).click()
        assert group.get_by_label(value, exact=True).is_checked(), f"{legend} {value} is not chosen"


def add_to_cart(page: Page, *, options: dict[str, str] | None = None, quantity: int = 1) -> None:
    """On a product page: pick the variant, set the quantity and add it; waits for "Added to your cart"."""
    if options:
        choose_options(page, options)
    page.get_by_label("Quantity", exact=True).fill(str(quantity))
    page.locator("form.buy-box").get_by_role("button", name="Add to cart").click()
    page.wait_for_load_state()
    expect_message(page, "Added to your cart.")


def expect_message(page: Page, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator(".messages")).to_contain_text(text)


def cart_count(page: Page) -> int:
    """The number in the header's cart link."""
    return int(page.get_by_role("banner").locator(".cart-count").inner_text())


def cart_lines(page: Page) -> list[str]:
    """The cart page's lines as their text (opens the cart from the header)."""
    page.get_by_role("banner").get_by_role("link", name=re.compile(r"^Cart")).click()
    page.wait_for_load_state()
    return [text.strip() for text in page.locator("[data-cart-line], .cart-line").all_inner_texts()]


def tab_to(page: Page, matches: Callable[[dict], bool], *, what: str, limit: int = 80, backwards: bool = False) -> dict:
    """Press Tab (Shift+Tab with ``backwards``) until the focused element, as :func:`focused` describes
    it, ``matches``; every stop on the way must show where the focus is. Returns the element's
    description; fails after ``limit`` presses."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        state = focused(page)
        assert_focus_visible(state)
        if matches(state):
            return state
    raise AssertionError(f"Tab never reached {what} in {limit} presses")


_FOCUSED_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: "body"};
  // a radio drawn as a button (.option): its ring is on the label's span
  const shown = el.type === "radio" && el.closest(".option") ? el.nextElementSibling || el : el;
  const style = getComputedStyle(shown);
  let ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none";
  if (!ring) {
    // drawn around a wrapper instead (a search box's :focus-within): it must change when focus leaves
    const look = (node) => { const s = getComputedStyle(node); return s.boxShadow + s.outline + s.borderColor; };
    const wrappers = [el.parentElement, el.parentElement && el.parentElement.parentElement].filter(Boolean);
    const settle = () => document.getAnimations().forEach((animation) => animation.finish());
    settle();
    const focusedLook = wrappers.map(look);
    el.blur();
    settle();  // transitions jump to their end
    ring = wrappers.some((node, i) => look(node) !== focusedLook[i]);
    el.focus();
    settle();
  }
  const box = shown.getBoundingClientRect();
  const header = document.querySelector(".site-header");
  let covered = false;
  if (header && !header.contains(el) && box.width) {
    // what a person sees at the element's top edge: the header drawn over it means it is covered
    const x = Math.min(Math.max(box.left + box.width / 2, 0), window.innerWidth - 1);
    const y = Math.min(Math.max(box.top + 2, 0), window.innerHeight - 1);
    const top = document.elementFromPoint(x, y);
    covered = Boolean(top && header.contains(top));
  }
  const offscreen = box.bottom < 0 || box.top > window.innerHeight || box.width === 0;
  return {
    tag: el.tagName.toLowerCase(), type: el.type || "", name: el.name || "", value: el.value || "",
    href: el.getAttribute("href") || "", checked: Boolean(el.checked),
    text: (el.innerText || el.getAttribute("aria-label") || "").trim().replace(/\\s+/g, " "),
    label: el.labels && el.labels[0] ? el.labels[0].innerText.trim() : "",
    ring: ring, covered: covered, offscreen: offscreen,
  };
}"""


def focused(page: Page) -> dict:
    """The focused element: tag, type, name, value, href, text, label; whether it shows a focus ring,
    is hidden under the sticky header, or is off screen."""
    return page.evaluate(_FOCUSED_JS)


def assert_focus_visible(state: dict) -> None:
    """A keyboard user can see where the focus is: a ring, on screen, not under the sticky header."""
    if state.get("tag") == "body":
        return
    where = f"<{state['tag']}> {state.get('text') or state.get('label') or state.get('name')!r}"
    assert state["ring"], f"{where} has the focus but no focus ring"
    assert not state["offscreen"], f"{where} has the focus off screen"
    assert not state["covered"], f"{where} has the focus under the sticky header"


def fill_card(page: Page, number: str, *, expiry: str = "12/30", cvc: str = "123") -> None:
    """Type a card into the payment form, key by key, as a person does."""
    page.get_by_label("Card number", exact=True).press_sequentially(number)
    page.get_by_label("Expiry (MM/YY)", exact=True).press_sequentially(expiry)
    page.get_by_label("CVC", exact=True).press_sequentially(cvc)


def totals(page: Page) -> dict[str, str]:
    """The page's (first) totals box as {label: amount}: Subtotal, Discount (CODE), Shipping, Tax, Total."""
    box = page.locator("dl.totals").first
    labels = [text.strip() for text in box.locator("dt").all_inner_texts()]
    amounts = [text.strip() for text in box.locator("dd").all_inner_texts()]
    return dict(zip(labels, amounts, strict=True))


def open_order(page: Page, number: str) -> None:
    """From any page: Account -> Your orders -> the order ``number``."""
    page.get_by_role("banner").get_by_role("link", name="Account").click()
    page.get_by_role("main").get_by_role("link", name="Your orders").click()
    page.get_by_role("row").filter(has_text=number).get_by_role("link", name=number).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == f"Order {number}"


def check_and_shoot(visitor: Visitor, shots: Screenshots, step: str) -> None:
    """The end of a step: nothing went wrong in the browser, the images have alt text and sizes, and
    both widths are captured."""
    visitor.problems.assert_none(step)
    problems = image_problems(visitor.page)
    assert not problems, f"{step}: {problems}"
    shots.take(visitor.page, step)


def first_of(items: Iterable[T]) -> T:
    for item in items:
        return item
    raise AssertionError("nothing there")
