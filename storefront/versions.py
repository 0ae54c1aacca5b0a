"""Cached fragments and data, keyed by version numbers that the catalog's and sellers' events bump.

Each cached entry records the versions of the scopes it was built from: ``all`` (every listing),
``recent`` (the newest products), ``categories`` (the tree: header, breadcrumbs), ``p:<slug>`` (a
product), ``r:<slug>`` (a product's reviews and rating), ``c:<path>`` (a category's listing),
``s:<id>`` (a seller's listing). The outbox handlers (``storefront.handlers``) increment the
versions a change touches; an entry whose recorded versions are not the current ones is stale and
is built again. Nothing is deleted: a stale entry is
overwritten, or expires with its timeout.

Only what is the same for every visitor goes in here. The parts of a page that belong to one visitor
(the header's account links and cart count, CSRF tokens, messages, stock) render on every request and
are spliced into the cached page (storefront.live).

Redis is fast state, not the truth: django-redis ignores its errors (``IGNORE_EXCEPTIONS``), reads then
come back empty, and ``cached`` builds the value without keeping it, so pages still render.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from django.core.cache import cache

T = TypeVar("T")

ALL = "all"  # a seller suspended or reinstated moves products in and out of every listing
RECENT = "recent"  # the home page's new arrivals: any product change may reach them
CATEGORIES = "categories"  # the category tree (no event announces tree changes yet: its timeout bounds them)

_VERSION_KEY = "sf:v:{}"
# A version key may lapse: the next read starts it again at a number it never held, which only makes
# the entries built under it stale. So versions need not live for ever, and a crawler asking for a
# million made-up product slugs does not leave a million keys behind.
VERSION_TIMEOUT = 24 * 60 * 60
_ENTRY_KEY = "sf:e:{}:{}"


def product_scope(slug: str) -> str:
    return f"p:{slug}"  # by slug, which never changes (catalog.services.product_update), as pages look it up


def reviews_scope(slug: str) -> str:
    # A product's reviews and rating: review events bump it (storefront.handlers) without making the
    # product's listings stale.
    return f"r:{slug}"


def category_scope(path: str) -> str:
    # By path, as the page is asked for: a warm category page finds its entry and versions in one
    # round trip, without looking the category up in the tree first.
    return f"c:{path}"


def seller_scope(seller_id: int) -> str:
    return f"s:{seller_id}"


def _new_version() -> int:
    # A version made up after a key was lost (evicted, flushed) must differ from every number the
    # key held before, or an old entry could look current again: the clock in nanoseconds does.
    return time.time_ns()


def bump(scopes: Iterable[str]) -> None:
    """Make every entry built from these scopes stale."""
    for scope in set(scopes):
        key = _VERSION_KEY.format(scope)
        try:
            cache.incr(key)
        except ValueError:  # no version yet: nothing cached under it can be current anyway
            cache.set(key, _new_version(), VERSION_TIMEOUT)


def _current_versions(found: dict, keys: Sequence[str]) -> list[int] | None:
    """The versions of ``keys`` from a ``get_many`` result, giving a version to those without one.
    None when the cache does not answer."""
    missing = [key for key in keys if found.get(key) is None]
    if missing:
        for key in missing:
            cache.add(key, _new_version(), VERSION_TIMEOUT)
        found = {**found, **cache.get_many(missing)}
        if any(found.get(key) is None for key in missing):
            return None  # the cache is down (its errors read as misses): build, keep nothing
    return [found[key] for key in keys]


def _keys(kind: str, parts: Sequence[object], scopes: Sequence[str]) -> tuple[str, list[str]]:
    digest = hashlib.blake2b(repr(tuple(parts)).encode(), digest_size=16).hexdigest()
    return _ENTRY_KEY.format(kind, digest), [_VERSION_KEY.format(scope) for scope in scopes]


def _cached(
    entry_key: str, version_keys: list[str], build: Callable[[], T], timeout: int, also: Sequence[str] = ()
) -> tuple[list | None, T, dict]:
    """(versions, value, what the cache holds of the keys ``also``, read in the same round trip)."""
    found = cache.get_many([entry_key, *version_keys, *also])
    versions = _current_versions(found, version_keys)
    if versions is None:
        return None, build(), {}
    entry = found.get(entry_key)
    if entry is not None and entry[0] == versions:
        return versions, entry[1], found
    value = build()
    cache.set(entry_key, (versions, value), timeout)
    return versions, value, found


def cached(kind: str, parts: Sequence[object], scopes: Sequence[str], build: Callable[[], T], *, timeout: int) -> T:
    """``build()``'s value for ``parts``, from the cache while none of ``scopes`` changed.

    One cache round trip when the entry is current. The versions are read before ``build`` runs,
    so a change that lands while it runs leaves the entry stale rather than current but old.
    ``build`` may return None (a product that is not listed): that is cached like any value.
    """
    entry_key, version_keys = _keys(kind, parts, scopes)
    return _cached(entry_key, version_keys, build, timeout)[1]


class _LocalLRU:
    """A bounded map in this process's memory, least recently used out first; an entry may carry a
    deadline after which it is gone. Two of them serve ``cached_with_live``:

    - ``_copies``: this process's own copies of entries, with the versions they were built under. A
      page that also needs live values from the cache (the product page's stock) reads the versions
      and those values in one round trip, and skips moving and unpickling the page itself. A copy is
      used only while the versions in the cache are still its own, and no longer than the entry's
      timeout.
    - ``_live_keys``: the live keys each entry asked for when this process last had it, kept much
      longer than the entries themselves (a few short strings each): an entry this process has no
      copy of any more, the long tail of a big catalogue, still comes with its live values in one
      round trip.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[object, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, default: object = None) -> object:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return default
            if entry[1] <= time.monotonic():
                del self._entries[key]
                return default
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: str, value: object, timeout: float = float("inf")) -> None:
        with self._lock:
            self._entries[key] = (value, time.monotonic() + timeout)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_copies = _LocalLRU(size=500)  # (versions, page): pages of ~10-20 kB, a few MB per process
_live_keys = _LocalLRU(size=50_000)  # tuples of keys, ~100 bytes each: a few MB per process


def clear_local_copies() -> None:
    _copies.clear()
    _live_keys.clear()


def cached_with_live(
    kind: str,
    parts: Sequence[object],
    scopes: Sequence[str],
    build: Callable[[], T],
    *,
    timeout: int,
    live_keys: Callable[[T], Sequence[str]],
) -> tuple[T, dict[str, object]]:
    """Like ``cached``, with the cache's current values of ``live_keys(value)`` (those it holds).

    When this process has a current copy of the entry, the versions and the live values come in one
    round trip. Otherwise the entry comes as in ``cached``, with the live values in the same round
    trip when this process knows which keys the entry asks for (``_live_keys``: it had the entry
    before, and its live keys did not change since), else in a second one.
    """
    entry_key, version_keys = _keys(kind, parts, scopes)
    copy = _copies.get(entry_key)
    if copy is not None:
        copy_versions, value = copy
        keys = list(live_keys(value))
        found = cache.get_many([*version_keys, *keys])
        if _current_versions(found, version_keys) == copy_versions:
            return value, {key: found[key] for key in keys if key in found}
    expected = _live_keys.get(entry_key, ())
    versions, value, found = _cached(entry_key, version_keys, build, timeout, also=expected)
    keys = tuple(live_keys(value))
    if versions is not None:
        _copies.put(entry_key, (versions, value), timeout)
        _live_keys.put(entry_key, keys)
    if versions is not None and keys == expected:
        return value, {key: found[key] for key in keys if key in found}
    return value, cache.get_many(keys) if keys else {}
