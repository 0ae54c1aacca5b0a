"""Query budgets of the checkout saga: starting and paying a checkout cost a fixed number of SQL
statements plus a documented constant per line and per seller, so an N+1 (a query per line or per
seller where one would do) cannot creep back unnoticed.

What still grows, and why (each is one row per thing, written through an API that has no bulk form):
- per line (start and pay): the ``inventory.stock_changed`` outbox event of the line's SKU
  (``shop.core.events.publish`` inserts one event at a time);
- per seller (pay): the ``sub_order.status_changed`` outbox event, and the seller's ledger entries
  (``sellers.services.ledger_record_sale``: one INSERT ... ON CONFLICT and the SELECT that checks it).

The counts are taken inside the test's transaction, so each ``transaction.atomic`` of the saga shows
as a SAVEPOINT and a RELEASE where production has a BEGIN and a COMMIT. A budget that goes up means a
new statement on the hot path of every order: make it one statement for all lines, or raise the
budget here on purpose, with the reason.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order
from orders.tests.conftest import fill_cart, pay, start
from sellers.tests.factories import SellerFactory

START_FIXED = 32
START_PER_LINE = 1  # inventory.stock_changed
PAY_FIXED = 55
PAY_PER_LINE = 1  # inventory.stock_changed
PAY_PER_SELLER = 3  # sub_order.status_changed; ledger INSERT and its check


def start_budget(*, lines: int) -> int:
    return START_FIXED + START_PER_LINE * lines


def pay_budget(*, lines: int, sellers: int) -> int:
    return PAY_FIXED + PAY_PER_LINE * lines + PAY_PER_SELLER * sellers


def _statements(context: CaptureQueriesContext) -> str:
    return "\n".join(query["sql"][:160] for query in context.captured_queries)


@pytest.mark.parametrize(("lines", "sellers"), [(1, 1), (2, 2), (5, 2)])
def test_checkout_start_and_pay_stay_within_their_query_budgets(buyer, make_variant, lines, sellers):
    shops = [SellerFactory() for _ in range(sellers)]
    variants = [make_variant(seller=shops[index % sellers], price="10.00") for index in range(lines)]
    fill_cart(buyer, *[(variant, 1) for variant in variants])

    with CaptureQueriesContext(connection) as started:
        checkout = start(buyer)
    with CaptureQueriesContext(connection) as paid:
        result = pay(buyer, checkout)

    assert result.status_code == 201
    order = Order.objects.get(checkout=checkout)
    assert order.status == "confirmed"
    assert order.sub_orders.count() == sellers
    assert sum(sub_order.lines.count() for sub_order in order.sub_orders.all()) == lines
    assert len(started.captured_queries) == start_budget(lines=lines), _statements(started)
    assert len(paid.captured_queries) == pay_budget(lines=lines, sellers=sellers), _statements(paid)
