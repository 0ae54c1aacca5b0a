"""Card numbers never enter the shop: the browser turns them into gateway tokens. A "token" that looks
like a card number (a PAN: 13 to 19 digits, maybe grouped by spaces or dashes, Luhn-valid or not) is
refused before anything is stored or logged, and whatever the payments app logs or stores from a
gateway's answer passes through ``redact`` first."""

from __future__ import annotations

import re

# 13-19 digits, each optionally followed by one space or dash: "4242424242424242",
# "4242 4242 4242 4242", "4242-4242-4242-4242". A run inside a longer string counts too.
_PAN_RUN = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
REDACTED = "[redacted]"


def looks_like_pan(value: str) -> bool:
    return bool(_PAN_RUN.search(value or ""))


def redact(value: object, limit: int = 255) -> str:
    """``value`` as text with every card-number-like run replaced, cut to ``limit`` characters."""
    return _PAN_RUN.sub(REDACTED, str(value))[:limit]
