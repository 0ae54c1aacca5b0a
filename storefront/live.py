"""The parts of a page that belong to one visitor, and how they go into a page cached for everyone.

A storefront page is cached as its HTML with holes in it (hole-punching): where a template says
``{% live "header" %}`` (storefront_tags), the page built for the cache (storefront.fragments) holds a
marker instead, and ``split`` cuts the HTML at the markers once, when it is built. On each request
``respond`` fills every hole for the visitor in hand and joins the pieces: the account links and
cart count of the header, the footer's account links, messages, and what a page adds of its own (the
product page's buy box with live stock and a CSRF token). So the cached string never holds a CSRF
token, a name or a message, and a page is never served from the cache to another user; only the
small parts below run per request, as format strings rather than templates.

Pages rendered the ordinary way (``render(request, ...)``: accounts, errors) go through the same
functions: outside a page built for the cache, ``{% live %}`` renders the part in place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property, lru_cache
from urllib.parse import quote

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import escape

from cart import selectors as cart_selectors
from storefront import icons

# The context flag of a page built for the cache: ``{% live %}`` leaves a marker instead of the part.
AS_HOLES = "live_parts_as_holes"
# An HTML comment cannot come from data: every value a template prints is escaped, "<" included.
_MARKER = "<!--live:{}-->"
_MARKERS = re.compile(r"<!--live:([a-z_]+)-->")
CSRF_FIELD = 'name="csrfmiddlewaretoken"'


def marker(name: str) -> str:
    return _MARKER.format(name)


def split(html: str) -> tuple[str, ...]:
    """A page built for the cache, cut at its holes: text at even positions, hole names at odd ones."""
    if CSRF_FIELD in html:  # a {% csrf_token %} outside a live part: it would be served to everyone
        raise ValueError("a page cached for everyone must not hold a CSRF token")
    return tuple(_MARKERS.split(html))


class Visitor:
    """The request's visitor, as the live parts see them. The CSRF field is made once per request,
    and only if a part shows a form (a page without one sets no CSRF cookie)."""

    def __init__(self, request: HttpRequest):
        self.request = request
        user = getattr(request, "user", None)
        self.user = user if user is not None and user.is_authenticated else None

    @cached_property
    def csrf_input(self) -> str:
        # A token is letters and digits: nothing to escape.
        return f'<input type="hidden" name="csrfmiddlewaretoken" value="{get_token(self.request)}">'


@lru_cache(maxsize=8)
def _account_urls(urlconf: str, script_prefix: str) -> dict[str, str]:
    """The accounts pages the layout links to ("" for any that does not exist), escaped."""
    urls = {}
    for name in ("login", "signup", "account", "logout"):
        try:
            urls[name] = escape(reverse(f"accounts:{name}"))
        except NoReverseMatch:
            urls[name] = ""
    return urls


def account_urls() -> dict[str, str]:
    return _account_urls(str(get_urlconf() or settings.ROOT_URLCONF), get_script_prefix())


def cart_count(visitor: Visitor) -> int:
    """Lines in the visitor's cart (one Redis round trip; 0 when the cart is unavailable)."""
    return cart_selectors.cart_count_for_request(visitor.request)


def header(visitor: Visitor) -> str:
    """The header's account links (sign in or account and log out, admin for staff) and the cart."""
    urls = account_urls()
    parts = []
    if visitor.user is not None:
        if visitor.user.is_staff:
            parts.append(
                f'<a class="header-link" href="/admin/">{icons.svg("shield")}'
                '<span class="header-label">Admin</span></a>'
            )
        if urls["account"]:
            parts.append(
                f'<a class="header-link" href="{urls["account"]}">{icons.svg("user")}'
                '<span class="header-label">Account</span></a>'
            )
        if urls["logout"]:
            parts.append(
                f'<form class="header-form" method="post" action="{urls["logout"]}">{visitor.csrf_input}'
                f'<button class="header-link" type="submit">{icons.svg("logout")}'
                '<span class="header-label">Log out</span></button></form>'
            )
    else:
        if urls["login"]:
            parts.append(
                f'<a class="header-link" href="{urls["login"]}{_next(visitor.request, urls)}">{icons.svg("user")}'
                '<span class="header-label">Sign in</span></a>'
            )
        if urls["signup"]:
            parts.append(
                f'<a class="header-link header-link-cta" href="{urls["signup"]}">{icons.svg("user-plus")}'
                '<span class="header-label">Create account</span></a>'
            )
    count = cart_count(visitor)
    parts.append(
        f'<a class="header-link cart-link" href="/cart/">{icons.svg("cart")}<span class="header-label">Cart</span>'
        f'<span class="cart-count">{count}</span>'
        f'<span class="visually-hidden"> item{"" if count == 1 else "s"} in your cart</span></a>'
    )
    return "".join(parts)


def _next(request: HttpRequest, urls: Mapping[str, str]) -> str:
    """``?next=`` back to this page, except on the sign-in and sign-up pages themselves."""
    if request.path in (urls["login"], urls["signup"]):
        return ""
    return "?next=" + escape(quote(request.get_full_path(), safe="/"))


def footer_account(visitor: Visitor) -> str:
    """The footer's "Your account" links, before its cart link."""
    urls = account_urls()
    if visitor.user is not None:
        return f'<li><a href="{urls["account"]}">Account</a></li>' if urls["account"] else ""
    links = [(urls["login"], "Sign in"), (urls["signup"], "Create account")]
    return "".join(f'<li><a href="{url}">{label}</a></li>' for url, label in links if url)


def messages(visitor: Visitor) -> str:
    """django.contrib.messages as dismissible alerts: a template, but only when there is a message."""
    storage = get_messages(visitor.request)
    if not storage:
        return ""
    return render_to_string("includes/messages.html", {"messages": storage})


Part = Callable[[Visitor], str]
# The parts the layout (templates/base.html) leaves for each visitor.
PARTS: dict[str, Part] = {"header": header, "footer_account": footer_account, "messages": messages}


def render_part(name: str, request: HttpRequest) -> str:
    """A layout part rendered in place, for a page rendered the ordinary way."""
    if name not in PARTS:  # a page's own part (the buy box) exists only in pages built for the cache
        raise ImproperlyConfigured(f"the live part {name!r} is filled by its page's view (storefront.fragments)")
    return PARTS[name](Visitor(request))


def respond(request: HttpRequest, pieces: Sequence[str], parts: Mapping[str, Part] | None = None) -> HttpResponse:
    """The page for this visitor: ``pieces`` (``split``) with each hole filled, by ``parts`` (the
    page's own) or by the layout's."""
    visitor = Visitor(request)
    page = list(pieces)
    for i in range(1, len(page), 2):
        name = page[i]
        part = parts.get(name) if parts else None
        page[i] = (part or PARTS[name])(visitor)
    return HttpResponse("".join(page))
