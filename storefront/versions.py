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

A web process also keeps its own copies of the entries ``cached_with_live`` served (the product
page), and serves one with no Redis round trip while Redis announces no change of the keys it was
read with (storefront.tracking); a change reaches those copies within milliseconds of Redis applying
it, and at once in the process that made it (``bump``).

Redis is fast state, not the truth: django-redis ignores its errors (``IGNORE_EXCEPTIONS``), reads then
come back empty, and ``cached`` builds the value without keeping it, so pages still render.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple, TypeVar

from django.conf import settings
from django.core.cache import cache

from storefront.tracking import Tracker

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
    """Make every entry built from these scopes stale (in this process at once, in the others when
    Redis's invalidation reaches them, storefront.tracking)."""
    keys = [_VERSION_KEY.format(scope) for scope in set(scopes)]
    for key in keys:
        try:
            cache.incr(key)
        except ValueError:  # no version yet: nothing cached under it can be current anyway
            cache.set(key, _new_version(), VERSION_TIMEOUT)
    if _tracker is not None:
        _tracker.note_written(cache.make_key(key) for key in keys)


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
    """A bounded map in this process's memory, least recently used out first; each entry weighs
    something (1 unless told) and carries a deadline after which it is gone. Two of them serve
    ``cached_with_live``:

    - ``_copies``: this process's own copies of entries, with the versions and live values they
      were read with, weighed in characters of page text. While Redis's invalidations say none of
      those keys changed since (storefront.tracking) a copy is served with no round trip; otherwise
      the versions and live values are read again in one round trip, and the copy is used if its
      versions are still the current ones. Never longer than the entry's timeout.
    - ``_live_keys``: the live keys each entry asked for when this process last had it, kept much
      longer than the entries themselves (a few short strings each): an entry this process has no
      copy of any more, the long tail of a big catalogue, still comes with its live values in one
      round trip.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[object, float, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: str, default: object = None) -> object:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return default
            if entry[1] <= time.monotonic():
                self._weight -= self._entries.pop(key)[2]
                return default
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: str, value: object, timeout: float = float("inf"), weight: int = 1) -> None:
        with self._lock:
            self._put(key, value, time.monotonic() + timeout, weight)

    def update(self, key: str, value: object, expected: object) -> None:
        """Replace the value of ``key``, keeping its deadline and weight, if it is still ``expected``
        (not gone, nor replaced by another thread meanwhile)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] is expected:
                self._entries[key] = (value, entry[1], entry[2])

    def _put(self, key: str, value: object, deadline: float, weight: int) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._weight -= old[2]
        self._entries[key] = (value, deadline, weight)
        self._weight += weight
        while self._weight > self.size and self._entries:
            self._weight -= self._entries.popitem(last=False)[1][2]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._weight = 0


class _Copy(NamedTuple):
    versions: list
    value: object
    live: dict[str, object]  # the live values read with the versions (those the cache held)
    watched: tuple[str, ...] | None  # the full Redis names of the version and live keys; None: not all tracked
    mark: int | None  # storefront.tracking: the read's mark; None when no invalidations vouch for it


# Pages of ~10 kB (their shared layout pieces are kept once, sys.intern): 64 MB is some 6,000 pages.
_copies = _LocalLRU(size=settings.STOREFRONT_PAGE_COPIES_MB * 1_000_000)
_live_keys = _LocalLRU(size=50_000)  # tuples of keys, ~100 bytes each: a few MB per process
_tracker: Tracker | None = None
_tracked_live_prefixes: set[str] = set()
_tracker_lock = threading.Lock()


def clear_local_copies() -> None:
    _copies.clear()
    _live_keys.clear()


def tracker(live_prefix: str = "") -> Tracker | None:
    """This process's listener for Redis's invalidations of version keys (and of live keys under
    ``live_prefix``), or None when STOREFRONT_PAGE_TRACKING is off, or when the cache reads from
    replicas (django-redis spreads reads over the servers after the first: a replica behind the
    primary could answer a read after the invalidation that should have covered it)."""
    global _tracker
    if not settings.STOREFRONT_PAGE_TRACKING:
        return None
    if _tracker is not None and live_prefix in _tracked_live_prefixes:
        return _tracker
    location = settings.CACHES["default"].get("LOCATION")
    servers = location.split(",") if isinstance(location, str) else list(location or ())
    if len(servers) != 1:
        return None
    with _tracker_lock:
        if _tracker is not None and live_prefix in _tracked_live_prefixes:
            return _tracker  # another thread made it meanwhile
        if _tracker is not None:
            _tracker.stop()  # a new prefix: listen again, for all of them
            _copies.clear()  # their marks belong to the old listener
        _tracked_live_prefixes.add(live_prefix)
        prefixes = {cache.make_key(_VERSION_KEY.format(""))}
        prefixes.update(cache.make_key(prefix) for prefix in _tracked_live_prefixes if prefix)
        _tracker = Tracker(servers[0], sorted(prefixes))
        return _tracker


def stop_tracking() -> None:
    global _tracker
    with _tracker_lock:
        if _tracker is not None:
            _tracker.stop()
            _tracker = None
        _tracked_live_prefixes.clear()


def _page_weight(value: object) -> int:
    pieces = value.get("pieces", ()) if isinstance(value, dict) else ()
    return 1_000 + sum(len(piece) for piece in pieces)


def _shared_pieces(value: T) -> T:
    """The page with its text pieces interned: the layout pieces every page repeats are kept once
    in this process however many copies hold them."""
    if isinstance(value, dict) and isinstance(value.get("pieces"), tuple):
        return {**value, "pieces": tuple(sys.intern(piece) for piece in value["pieces"])}
    return value


def cached_with_live(
    kind: str,
    parts: Sequence[object],
    scopes: Sequence[str],
    build: Callable[[], T],
    *,
    timeout: int,
    live_keys: Callable[[T], Sequence[str]],
    live_prefix: str = "",
) -> tuple[T, dict[str, object]]:
    """Like ``cached``, with the cache's current values of ``live_keys(value)`` (those it holds).

    When this process has a copy of the entry and Redis's invalidations (storefront.tracking, for
    version keys and live keys under ``live_prefix``) say none of its keys changed since it was
    read, the copy and its live values are the answer, with no round trip. When they cannot say,
    the versions and the live values come in one round trip, and the copy is used if its versions
    are current. Otherwise the entry comes as in ``cached``, with the live values in the same round
    trip when this process knows which keys the entry asks for (``_live_keys``: it had the entry
    before, and its live keys did not change since), else in a second one.
    """
    entry_key, version_keys = _keys(kind, parts, scopes)
    listener = tracker(live_prefix)
    copy: _Copy | None = _copies.get(entry_key)
    if copy is not None:
        if listener is not None and copy.watched is not None and listener.unchanged_since(copy.watched, copy.mark):
            return copy.value, copy.live
        mark = listener.mark() if listener is not None and copy.watched is not None else None
        keys = list(live_keys(copy.value))
        found = cache.get_many([*version_keys, *keys])
        if _current_versions(found, version_keys) == copy.versions:
            live = {key: found[key] for key in keys if key in found}
            _copies.update(entry_key, copy._replace(live=live, mark=mark), expected=copy)
            return copy.value, live
    mark = listener.mark() if listener is not None else None
    expected = _live_keys.get(entry_key, ())
    versions, value, found = _cached(entry_key, version_keys, build, timeout, also=expected)
    keys = tuple(live_keys(value))
    if versions is not None and keys == expected:
        live = {key: found[key] for key in keys if key in found}
    else:
        live = cache.get_many(keys) if keys else {}
    if versions is not None:
        watched: tuple[str, ...] | None = tuple(cache.make_key(key) for key in (*version_keys, *keys))
        if listener is None or not all(listener.covers(key) for key in watched):
            watched, mark = None, None
        value = _shared_pieces(value)
        _copies.put(entry_key, _Copy(versions, value, live, watched, mark), timeout, weight=_page_weight(value))
        _live_keys.put(entry_key, keys)
    return value, live
