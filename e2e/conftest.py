"""Fixtures of the browser tests: the shop served by pytest-django's live server (a thread of this
process, on the test database, committed data: ``transactional_db``), a catalogue made through the real
services, and Debian's Chromium driven by Playwright.

Without Chromium (or Playwright) every test here is skipped with the reason, which ``-ra`` prints.
The order of the fixtures matters: the catalogue is written before the browser starts, because the
ORM refuses to run in the thread of Playwright's event loop (see ``e2e.helpers.orm``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from e2e.catalogue import Catalogue, catalogue_create
from e2e.helpers import CHROMIUM, DESKTOP, TIMEOUT_MS, Problems, Screenshots, Visitor, browser_unavailable

E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    reason = browser_unavailable()
    if reason is None:
        return
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.skip(reason=reason))


# A fast hasher for the accounts these tests make and sign in to (each test signs in several times).
# Production's Argon2 costs ~0.3 s per hash and per log-in; accounts' own tests cover it.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Inside the browser tests only: the live server thread reads the same settings."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def catalogue(transactional_db) -> Catalogue:
    """The shop's sellers, products and a buyer (e2e.catalogue), committed for the live server."""
    return catalogue_create()


# --- the browser ----------------------------------------------------------------------------------


@pytest.fixture
def base_url(live_server) -> str:
    return live_server.url


@pytest.fixture
def browser(catalogue, base_url) -> Iterator[object]:
    """Debian's Chromium, headless, for one test. It starts after the catalogue is written and the
    live server runs (the ORM stays out of this thread from here on) and is closed before the
    database is emptied."""
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_visitor(browser, base_url) -> Iterator[Callable[[], Visitor]]:
    """Open another person's window (its own cookies); each watches for problems."""
    contexts = []

    def open_window(**options) -> Visitor:
        context = browser.new_context(base_url=base_url, viewport=DESKTOP, locale="en-GB", **options)
        context.set_default_timeout(TIMEOUT_MS)
        problems = Problems(origin=base_url)
        problems.watch(context)
        contexts.append(context)
        return Visitor(context=context, page=context.new_page(), problems=problems)

    yield open_window
    for context in contexts:
        context.close()


@pytest.fixture
def visitor(new_visitor) -> Visitor:
    return new_visitor()


@pytest.fixture
def page(visitor):
    return visitor.page


@pytest.fixture
def shots(request) -> Screenshots:
    return Screenshots(request.node.name)
