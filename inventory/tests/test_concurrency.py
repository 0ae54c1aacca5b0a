"""Concurrency proofs: real concurrent transactions on PostgreSQL, each thread on its own connection
(run_concurrently in conftest.py), released together by a barrier."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from inventory import services
from inventory.models import Reservation, ReservationLine, Stock, StockMovement
from inventory.services import OutOfStock
from inventory.tests.conftest import run_concurrently
from inventory.tests.factories import StockFactory

pytestmark = pytest.mark.django_db(transaction=True)


def available_now(stock_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT on_hand - reserved FROM inventory_stock WHERE id = %s", [stock_id])
        return cursor.fetchone()[0]


def test_fifty_buyers_racing_for_ten_units_get_exactly_ten_reservations(sampler):
    stock = StockFactory(on_hand=10)

    with sampler(lambda: available_now(stock.pk)) as watch:
        results = run_concurrently(
            50, lambda i: services.reservation_create(key=f"checkout:{i}", lines=[(stock.sku, 1)])
        )

    won = [r for r in results if isinstance(r, Reservation)]
    lost = [r for r in results if isinstance(r, OutOfStock)]
    assert (len(won), len(lost)) == (10, 40), [r for r in results if not isinstance(r, Reservation | OutOfStock)]
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved, stock.available) == (10, 10, 0)
    assert Reservation.objects.filter(status="held").count() == 10
    assert sum(ReservationLine.objects.values_list("quantity", flat=True)) == 10
    assert watch.samples > 0
    assert watch.lowest >= 0


def test_buyers_wanting_several_units_never_take_more_than_there_is():
    stock = StockFactory(on_hand=10)

    results = run_concurrently(
        20, lambda i: services.reservation_create(key=f"checkout:{i}", lines=[(stock.sku, 1 + i % 3)])
    )

    held = sum(line.quantity for r in results if isinstance(r, Reservation) for line in r.lines.all())
    stock.refresh_from_db()
    assert held == stock.reserved <= 10
    assert stock.available >= 0
    assert all(isinstance(r, Reservation | OutOfStock) for r in results)


def test_checkouts_taking_two_skus_in_opposite_orders_never_deadlock():
    a, b = StockFactory(on_hand=100, sku="DEADLOCK-A"), StockFactory(on_hand=100, sku="DEADLOCK-B")
    rounds = 25

    def checkout(thread: int) -> int:
        lines = [(a.sku, 1), (b.sku, 1)] if thread % 2 == 0 else [(b.sku, 1), (a.sku, 1)]
        for round_ in range(rounds):
            reservation = services.reservation_create(key=f"checkout:{thread}:{round_}", lines=lines)
            services.reservation_release(reservation_id=reservation.pk)
        return rounds

    results = run_concurrently(4, checkout)

    assert results == [rounds] * 4  # no DeadlockDetected, no lock wait left hanging
    assert list(Stock.objects.order_by("sku").values_list("reserved", flat=True)) == [0, 0]
    assert Reservation.objects.filter(status="released").count() == 4 * rounds


def test_concurrent_checkouts_of_one_sku_on_two_lines_count_it_once():
    stock = StockFactory(on_hand=9)

    results = run_concurrently(
        6, lambda i: services.reservation_create(key=f"checkout:{i}", lines=[(stock.sku, 2), (stock.sku, 1)])
    )

    assert sum(isinstance(r, Reservation) for r in results) == 3  # 3 x (2 + 1) = 9
    stock.refresh_from_db()
    assert (stock.reserved, stock.available) == (9, 0)


def test_the_same_key_from_many_threads_makes_one_reservation():
    stock = StockFactory(on_hand=10)

    results = run_concurrently(20, lambda i: services.reservation_create(key="checkout:42", lines=[(stock.sku, 3)]))

    assert all(isinstance(r, Reservation) for r in results), results
    assert len({r.pk for r in results}) == 1
    stock.refresh_from_db()
    assert stock.reserved == 3


def test_concurrent_expiry_runs_release_exactly_what_was_held():
    a, b = StockFactory(on_hand=50), StockFactory(on_hand=50)
    for i in range(20):
        services.reservation_create(key=f"checkout:{i}", lines=[(a.sku, 1), (b.sku, 2)], ttl=timedelta(minutes=1))
    kept = services.reservation_create(key="fresh", lines=[(a.sku, 5)], ttl=timedelta(hours=1))
    later = timezone.now() + timedelta(minutes=5)

    results = run_concurrently(4, lambda i: services.reservations_expire(now=later))

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 20  # each reservation expired by exactly one run
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.reserved, b.reserved) == (5, 0)
    assert Reservation.objects.get(pk=kept.pk).status == "held"


def test_commit_from_many_threads_sells_once():
    stock = StockFactory(on_hand=10)
    reservation = services.reservation_create(key="checkout:1", lines=[(stock.sku, 3)])

    results = run_concurrently(8, lambda i: services.reservation_commit(reservation_id=reservation.pk))

    assert all(isinstance(r, Reservation) and r.status == "committed" for r in results), results
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (7, 0)
    assert list(StockMovement.objects.values_list("delta", "reason")) == [(-3, "sold")]


def test_release_from_many_threads_gives_back_once():
    stock = StockFactory(on_hand=10)
    reservation = services.reservation_create(key="checkout:1", lines=[(stock.sku, 3)])
    services.reservation_create(key="checkout:2", lines=[(stock.sku, 2)])

    results = run_concurrently(8, lambda i: services.reservation_release(reservation_id=reservation.pk))

    assert all(isinstance(r, Reservation) for r in results), results
    stock.refresh_from_db()
    assert stock.reserved == 2


def test_commit_racing_expiry_either_sells_or_lapses_never_both():
    stock = StockFactory(on_hand=5)
    reservations = [
        services.reservation_create(key=f"checkout:{i}", lines=[(stock.sku, 1)], ttl=timedelta(seconds=1))
        for i in range(5)
    ]
    later = timezone.now() + timedelta(minutes=1)

    def work(i: int):
        if i == 0:
            return services.reservations_expire(now=later)
        return [services.reservation_commit(reservation_id=r.pk) for r in reservations]

    results = run_concurrently(3, work)

    assert not any(isinstance(r, Exception) for r in results), results
    stock.refresh_from_db()
    # every reservation ends committed (re-reserved after expiry if need be), sold exactly once
    assert set(Reservation.objects.values_list("status", flat=True)) == {"committed"}
    assert (stock.on_hand, stock.reserved) == (0, 0)
    assert StockMovement.objects.count() == 5
