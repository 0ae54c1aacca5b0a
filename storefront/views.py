"""Buyer-facing pages that compose several domains: the home page and the shop's own content pages."""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from storefront import selectors


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/home.html", {"categories": selectors.home_categories()})


def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/help.html", {"support_email": _support_email()})


def sell_page(request: HttpRequest) -> HttpResponse:
    return render(request, "storefront/sell.html", {"support_email": _support_email()})


def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico whatever the page declares; a redirect is cheaper than a 404 page.
    return redirect(static("img/favicon.svg"))


def _support_email() -> str:
    # SUPPORT_EMAIL when the operator sets one, else the address the shop's mail comes from.
    configured = getattr(settings, "SUPPORT_EMAIL", "") or settings.DEFAULT_FROM_EMAIL
    return parseaddr(configured)[1]
