"""Listing URLs: page numbers, cursors and the pager's links."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.http import QueryDict

from catalog.selectors import ProductSlice, ProductSort
from storefront.pagination import (
    MAX_PAGE_NUMBER,
    PAGE_SIZE,
    InvalidPage,
    PageRequest,
    build_pager,
    decode_cursor,
    encode_cursor,
    parse_page_request,
)


class _Product:
    def __init__(self, pk: int, price: str = "1.00"):
        self.pk = pk
        self.price = Decimal(price)
        self.created_at = datetime(2026, 1, 1, tzinfo=UTC)


def test_cursors_round_trip_and_are_opaque():
    when = datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)
    cursor = encode_cursor(ProductSort.NEWEST, 7, (when, 42))

    assert "2026" not in cursor
    assert "=" not in cursor
    assert decode_cursor(cursor, ProductSort.NEWEST) == (7, (when, 42))
    price_cursor = encode_cursor(ProductSort.PRICE_DESC, 2, (Decimal("19.90"), 5))
    assert decode_cursor(price_cursor, ProductSort.PRICE_DESC) == (2, (Decimal("19.90"), 5))


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "a" * 500,
        "bnVsbA",
        "WzEsMiwzXQ",
        "WyJuZXdlc3QiLDEsIngiLDFd",
        "WyJuZXdlc3QiLDAsIjIwMjYtMDEtMDFUMDA6MDA6MDArMDA6MDAiLDFd",
    ],
)
def test_bad_cursors_are_invalid_pages(cursor):
    with pytest.raises(InvalidPage):
        decode_cursor(cursor, ProductSort.NEWEST)


def test_a_cursor_only_works_with_its_own_sort():
    cursor = encode_cursor(ProductSort.PRICE_ASC, 2, (Decimal("1.00"), 1))

    with pytest.raises(InvalidPage):
        decode_cursor(cursor, ProductSort.PRICE_DESC)


def test_page_requests():
    assert parse_page_request(QueryDict("")) == PageRequest(ProductSort.NEWEST, 1)
    assert parse_page_request(QueryDict("page=3&sort=price_asc")) == PageRequest(ProductSort.PRICE_ASC, 3)
    assert parse_page_request(QueryDict("page=3")).offset == 2 * PAGE_SIZE
    cursor = encode_cursor(ProductSort.NEWEST, 9, (datetime(2026, 1, 1, tzinfo=UTC), 4))
    request = parse_page_request(QueryDict(f"before={cursor}"))
    assert (request.number, request.after, request.offset) == (9, None, 0)
    assert request.before == (datetime(2026, 1, 1, tzinfo=UTC), 4)
    with pytest.raises(InvalidPage):
        parse_page_request(QueryDict(f"page={MAX_PAGE_NUMBER + 1}"))


def _page(count: int, *, has_previous: bool, has_next: bool) -> ProductSlice:
    return ProductSlice([_Product(i + 1) for i in range(count)], has_previous=has_previous, has_next=has_next)


def test_pager_links_by_number_around_the_current_page_and_by_cursor_either_side():
    pager = build_pager(
        PageRequest(ProductSort.PRICE_ASC, 5), _page(PAGE_SIZE, has_previous=True, has_next=True), count=500,
        count_is_capped=False,
    )  # fmt: skip

    assert [link.label for link in pager.links] == ["1", "…", "3", "4", "5", "6", "7", "…", "21"]
    assert [link.url for link in pager.links if link.current] == [None]
    assert pager.links[2].url == "?sort=price_asc&page=3"
    assert pager.previous_url.startswith("?sort=price_asc&before=")
    assert pager.next_url.startswith("?sort=price_asc&after=")
    assert decode_cursor(pager.next_url.split("after=")[1], ProductSort.PRICE_ASC)[0] == 6


def test_pager_of_a_capped_count_has_no_last_page_link():
    pager = build_pager(
        PageRequest(ProductSort.NEWEST, 1), _page(PAGE_SIZE, has_previous=False, has_next=True), count=10_000,
        count_is_capped=True,
    )  # fmt: skip

    assert [link.label for link in pager.links] == ["1", "2", "3", "…"]
    assert pager.previous_url is None
    assert pager.links[1].url == "?page=2"


def test_pager_of_one_page_has_no_links():
    pager = build_pager(PageRequest(ProductSort.NEWEST), _page(3, has_previous=False, has_next=False), count=3,
                        count_is_capped=False)  # fmt: skip

    assert not pager.has_other_pages
