"""Listing pages in URLs: ``?page=N`` for links by number, opaque cursors for previous and next.

Next and previous links carry a cursor (``?after=`` / ``?before=``): the key of the last (first) product
shown and the number of the page they lead to, base64url-encoded JSON. Following one is an index
range scan, as fast on page 5,000 as on page 2. A link by number (``?page=N``, the numbered links and
any URL a buyer types) has to count its way in from the start; that walk is what ``MAX_PAGE_NUMBER``
bounds (catalog.selectors.products_in_category). Anything malformed is a 404, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from decimal import InvalidOperation
from urllib.parse import urlencode

from django.http import Http404, QueryDict

from catalog.selectors import ListingKey, ProductSlice, ProductSort, listing_key

PAGE_SIZE = 24  # a grid of 2, 3, 4 or 6 columns, full rows on each
# Links by number reach this far: 12,000 products into a listing, page 500 costing 13 to 20 ms on
# 1,000,000 products. The walk grows with the page, and a little deeper PostgreSQL would rather sort
# the whole subtree (about 300 ms from page 550 on the same data); bots, not buyers, ask for page
# 3,000. Next/previous links keep going at the same cost on any page.
MAX_PAGE_NUMBER = 500
COUNT_CAP = 10_000  # listings larger than this say "10,000+ products" rather than count every one
_MAX_CURSOR_LENGTH = 200


class InvalidPage(Http404):
    pass


@dataclass(frozen=True)
class PageRequest:
    """Which page of a listing was asked for: by number, or after/before a cursor's key."""

    sort: ProductSort
    number: int = 1
    after: ListingKey | None = None
    before: ListingKey | None = None

    @property
    def offset(self) -> int:
        return 0 if self.after or self.before else (self.number - 1) * PAGE_SIZE

    @property
    def cache_part(self) -> tuple:
        return (self.sort.value, self.number, _key_text(self.after), _key_text(self.before))


def _key_text(key: ListingKey | None) -> tuple[str, int] | None:
    return None if key is None else (str(key[0]), key[1])


def parse_sort(params: QueryDict) -> ProductSort:
    raw = params.get("sort") or ProductSort.NEWEST.value
    try:
        return ProductSort(raw)
    except ValueError:
        raise InvalidPage("unknown sort") from None


def parse_page_request(params: QueryDict) -> PageRequest:
    """The page a listing URL asks for. Http404 for a bad page number, cursor or sort."""
    sort = parse_sort(params)
    after, before, page = params.get("after"), params.get("before"), params.get("page")
    if sum(value is not None for value in (after, before, page)) > 1:
        raise InvalidPage("a page is asked for by number or by one cursor")
    if after is not None:
        number, key = decode_cursor(after, sort)
        return PageRequest(sort, number, after=key)
    if before is not None:
        number, key = decode_cursor(before, sort)
        return PageRequest(sort, number, before=key)
    if page is None:
        return PageRequest(sort)
    if not page.isascii() or not page.isdigit() or len(page) > 6:
        raise InvalidPage("a page number is a whole number")
    number = int(page)
    if not 1 <= number <= MAX_PAGE_NUMBER:
        raise InvalidPage("no such page")
    return PageRequest(sort, number)


def encode_cursor(sort: ProductSort, number: int, key: ListingKey) -> str:
    text = json.dumps([sort.value, number, str(key[0]), key[1]], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: ProductSort) -> tuple[int, ListingKey]:
    if not cursor or len(cursor) > _MAX_CURSOR_LENGTH:
        raise InvalidPage("bad cursor")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        cursor_sort, number, value, pk = json.loads(text)
        if cursor_sort != sort.value:
            raise ValueError("the cursor belongs to another sort order")
        if not (isinstance(number, int) and isinstance(pk, int) and isinstance(value, str)):
            raise ValueError("a cursor holds a page number, a value and an id")
        if not 1 <= number <= 1_000_000 or pk < 1:
            raise ValueError("out of range")
        return number, (sort.parse_value(value), pk)
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error, InvalidOperation, OverflowError):
        raise InvalidPage("bad cursor") from None


@dataclass(frozen=True)
class PageLink:
    label: str
    url: str | None  # None: the current page, or a gap ("…")
    current: bool = False


@dataclass(frozen=True)
class Pager:
    number: int
    previous_url: str | None
    next_url: str | None
    links: list[PageLink]
    count: int
    count_is_capped: bool

    @property
    def has_other_pages(self) -> bool:
        return bool(self.previous_url or self.next_url)


def _url(sort: ProductSort, **params: object) -> str:
    """A link to another page of the same listing (listing URLs end in "/", so "./" is its first page)."""
    query = {} if sort is ProductSort.NEWEST else {"sort": sort.value}
    query.update({name: value for name, value in params.items() if value is not None})
    return "?" + urlencode(query) if query else "./"


def page_url(sort: ProductSort, number: int) -> str:
    return _url(sort, page=number if number > 1 else None)


def build_pager(request: PageRequest, page: ProductSlice, *, count: int, count_is_capped: bool) -> Pager:
    """Previous/next links by cursor, and numbered links around the current page."""
    sort, number = request.sort, request.number
    previous_url = next_url = None
    if page.has_previous and page.products:
        if number <= 2:
            previous_url = page_url(sort, 1)
        else:
            previous_url = _url(sort, before=encode_cursor(sort, number - 1, listing_key(page.products[0], sort)))
    if page.has_next and page.products:
        next_url = _url(sort, after=encode_cursor(sort, number + 1, listing_key(page.products[-1], sort)))

    # The pages known to exist: all of them when the count is exact, else as many as the capped
    # count fills, plus the next one if this page says there is one.
    known_pages = math.ceil(count / PAGE_SIZE) if count else 1
    last = known_pages if not count_is_capped else None
    reachable = max(known_pages, number + (1 if next_url else 0))
    wanted = {1, number - 2, number - 1, number, number + 1, number + 2}
    if last is not None:
        wanted.add(last)
    numbers = sorted(n for n in wanted if 1 <= n <= min(reachable, MAX_PAGE_NUMBER) or n == number)
    links: list[PageLink] = []
    for n in numbers:
        if links and links[-1].label.isdigit() and int(links[-1].label) < n - 1:
            links.append(PageLink("…", None))
        links.append(PageLink(str(n), None if n == number else page_url(sort, n), current=n == number))
    if last is None and reachable > numbers[-1]:
        links.append(PageLink("…", None))
    return Pager(number, previous_url, next_url, links, count, count_is_capped)
