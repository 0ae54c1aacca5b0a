"""The basic content filter: obviously bad reviews are held for staff instead of being published.

It looks for three things and nothing cleverer: links (reviews are about the product, and links are
how spam pays), banned words (``settings.REVIEWS_BANNED_WORDS``, whole words, any case), and
repeated text (a character typed ten times over, or a few words pasted again and again). A held
review is visible to its author and to staff, who publish or hide it (reviews.admin).
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings

_LINK = re.compile(
    r"(https?://|www\.|\b[a-z0-9-]+\.(?:com|net|org|info|biz|io|ru|cn|xyz|top|shop|site|online|ly|me)\b)",
    re.IGNORECASE,
)
_CHARACTER_RUN = re.compile(r"(\S)\1{9,}")  # "!!!!!!!!!!", "aaaaaaaaaaaa"
_WORD = re.compile(r"\w+")
REPEATED_MIN_WORDS = 12  # short texts repeat words naturally ("good, good value")
REPEATED_MAX_DISTINCT_SHARE = 0.25  # fewer than a quarter of the words distinct: pasted over and over


@lru_cache(maxsize=4)
def _banned_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    cleaned = [re.escape(word.strip()) for word in words if word.strip()]
    if not cleaned:
        return None
    return re.compile(r"\b(" + "|".join(cleaned) + r")\b", re.IGNORECASE)


def _repeated(text: str) -> bool:
    if _CHARACTER_RUN.search(text):
        return True
    words = [word.lower() for word in _WORD.findall(text)]
    return len(words) >= REPEATED_MIN_WORDS and len(set(words)) / len(words) < REPEATED_MAX_DISTINCT_SHARE


def hold_reason(*texts: str) -> str:
    """Why these texts should wait for a moderator ("" when they may be published)."""
    text = "\n".join(texts)
    if _LINK.search(text):
        return "contains a link"
    pattern = _banned_pattern(tuple(getattr(settings, "REVIEWS_BANNED_WORDS", ())))
    if pattern is not None and (match := pattern.search(text)):
        return f"contains a banned word ({match.group(1).lower()})"
    if _repeated(text):
        return "repeated text"
    return ""
