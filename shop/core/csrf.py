"""CSRF secrets and masks drawn from one read of the operating system's random source.

Django makes a CSRF secret, and the mask of every token it puts in a form, with ``get_random_string``:
one ``secrets.choice`` per character, each a ``getrandom`` system call of its own. A page with a form
shown to a first-time visitor (a product page's buy box, for a buyer arriving from a search engine)
needs a secret and a mask, 64 calls: about 150 µs, as much as the rest of a cached product page.

``random_string`` draws the same thing, characters uniform over the alphabet from the same
cryptographic source, from one ``secrets.token_bytes`` read: a byte at or past the largest multiple of
the alphabet's size below 256 is dropped rather than folded (no modulo bias). ``install`` makes it
Django's CSRF string source (``CoreConfig.ready``); the cookie, the masking and the checks stay
Django's own, and tests/test_csrf.py holds Django to using it.
"""

from __future__ import annotations

import secrets

from django.middleware import csrf


def random_string(length: int, alphabet: str) -> str:
    """``length`` characters, each uniform over ``alphabet`` (at most 256 characters)."""
    size = len(alphabet)
    usable = 256 - 256 % size  # bytes below this map onto the alphabet evenly
    chars: list[str] = []
    while len(chars) < length:
        # a few spare bytes, so one read almost always suffices (62 letters and digits keep 97%)
        chars.extend(alphabet[byte % size] for byte in secrets.token_bytes(length + 8) if byte < usable)
    return "".join(chars[:length])


def new_csrf_string() -> str:
    return random_string(csrf.CSRF_SECRET_LENGTH, csrf.CSRF_ALLOWED_CHARS)


def install() -> None:
    # the one function both the secrets and the masks of Django's CSRF tokens come from
    csrf._get_new_csrf_string = new_csrf_string
