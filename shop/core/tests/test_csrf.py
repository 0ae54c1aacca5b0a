"""shop.core.csrf: Django's CSRF secrets and masks come from one random read, and are no worse for it."""

from collections import Counter

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.middleware import csrf as django_csrf
from django.test import RequestFactory

from shop.core import csrf


def test_django_draws_its_csrf_strings_from_ours():
    assert django_csrf._get_new_csrf_string is csrf.new_csrf_string


def test_a_secret_has_djangos_length_and_alphabet():
    secret = csrf.new_csrf_string()

    assert len(secret) == django_csrf.CSRF_SECRET_LENGTH
    assert set(secret) <= set(django_csrf.CSRF_ALLOWED_CHARS)


def test_secrets_differ():
    assert len({csrf.new_csrf_string() for _ in range(1_000)}) == 1_000


@pytest.mark.parametrize("size", [62, 200])
def test_every_character_is_about_equally_likely(size):
    # 200 characters leave 56 byte values that a modulo would fold onto the first 56 (twice as
    # likely as the rest); dropped instead, every character keeps its share.
    alphabet = "".join(chr(0x100 + i) for i in range(size))
    counts = Counter("".join(csrf.random_string(100, alphabet) for _ in range(size * 20)))
    expected = 2_000  # 100 characters x 20 strings per letter of the alphabet
    assert set(counts) == set(alphabet)
    # +-20% is more than 8 standard deviations (sqrt(2000) ~ 45): a fair source never fails this
    assert all(0.8 * expected < n < 1.2 * expected for n in counts.values()), sorted(counts.values())[::20]


@pytest.mark.django_db  # the refusal renders the CSRF failure page
def test_a_token_made_with_it_is_accepted_by_djangos_middleware():
    page = RequestFactory().get("/")
    token = django_csrf.get_token(page)  # a first visit: a new secret for the cookie, and a masked token
    secret = page.META["CSRF_COOKIE"]
    post = RequestFactory().post("/", {"csrfmiddlewaretoken": token})
    post.COOKIES[settings.CSRF_COOKIE_NAME] = secret
    middleware = django_csrf.CsrfViewMiddleware(lambda request: HttpResponse())

    middleware.process_request(post)
    assert middleware.process_view(post, lambda request: HttpResponse(), (), {}) is None  # None: accepted
    assert len(token) == 2 * django_csrf.CSRF_SECRET_LENGTH
    forged = RequestFactory().post("/", {"csrfmiddlewaretoken": token})
    forged.COOKIES[settings.CSRF_COOKIE_NAME] = csrf.new_csrf_string()  # another visitor's secret
    middleware.process_request(forged)
    assert middleware.process_view(forged, lambda request: HttpResponse(), (), {}).status_code == 403
