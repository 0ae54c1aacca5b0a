"""Reservations one call at a time: the rules. The concurrent proofs are in test_concurrency.py."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inventory import selectors, services
from inventory.models import Reservation, Stock, StockMovement
from inventory.services import OutOfStock, ReservationLapsed
from inventory.tests.factories import StockFactory
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


def numbers(stock: Stock) -> tuple[int, int, int]:
    stock.refresh_from_db()
    return stock.on_hand, stock.reserved, stock.available


def events(name: str) -> list[dict]:
    return [event.payload for event in OutboxEvent.objects.filter(name=name).order_by("created_at")]


def test_reservation_holds_every_line_until_its_ttl():
    a, b = StockFactory(on_hand=5), StockFactory(on_hand=7)

    reservation = services.reservation_create(
        key="checkout:1", lines=[(a.sku, 2), (b.sku, 7)], ttl=timedelta(minutes=3)
    )

    assert reservation.status == Reservation.Status.HELD
    assert timedelta(minutes=2) < reservation.expires_at - timezone.now() <= timedelta(minutes=3)
    assert sorted((line.sku, line.quantity) for line in reservation.lines.all()) == sorted([(a.sku, 2), (b.sku, 7)])
    assert numbers(a) == (5, 2, 3)
    assert numbers(b) == (7, 7, 0)
    assert not StockMovement.objects.exists()  # on_hand did not change
    assert {event["sku"] for event in events(services.STOCK_CHANGED)} == {a.sku, b.sku}


def test_default_ttl_is_ten_minutes_or_the_setting(settings):
    stock = StockFactory()
    first = services.reservation_create(key="checkout:1", lines=[(stock.sku, 1)])
    settings.INVENTORY_RESERVATION_TTL = timedelta(minutes=2)
    second = services.reservation_create(key="checkout:2", lines=[(stock.sku, 1)])

    assert timedelta(minutes=9) < first.expires_at - timezone.now() <= timedelta(minutes=10)
    assert timedelta(minutes=1) < second.expires_at - timezone.now() <= timedelta(minutes=2)


def test_one_short_line_reserves_nothing_and_every_short_sku_is_named():
    plenty, short, scarce = StockFactory(on_hand=10), StockFactory(on_hand=1), StockFactory(on_hand=2)

    with pytest.raises(OutOfStock) as caught:
        services.reservation_create(
            key="checkout:1", lines=[(plenty.sku, 3), (short.sku, 2), (scarce.sku, 3), ("NO-SUCH-SKU", 1)]
        )

    assert caught.value.skus == sorted([short.sku, scarce.sku, "NO-SUCH-SKU"])
    assert [numbers(stock) for stock in (plenty, short, scarce)] == [(10, 0, 10), (1, 0, 1), (2, 0, 2)]
    assert not Reservation.objects.exists()
    assert events(services.STOCK_CHANGED) == []


def test_the_same_sku_on_two_lines_is_counted_once_for_the_sum():
    stock = StockFactory(on_hand=3)

    with pytest.raises(OutOfStock):  # 2 + 2 > 3, though each line alone would fit
        services.reservation_create(key="checkout:1", lines=[(stock.sku, 2), (stock.sku, 2)])
    reservation = services.reservation_create(key="checkout:2", lines=[(stock.sku, 2), (stock.sku, 1)])

    assert [(line.sku, line.quantity) for line in reservation.lines.all()] == [(stock.sku, 3)]
    assert numbers(stock) == (3, 3, 0)


def test_second_checkout_for_the_last_unit_gets_out_of_stock():
    stock = StockFactory(on_hand=1)
    services.reservation_create(key="checkout:1", lines=[(stock.sku, 1)])

    with pytest.raises(OutOfStock) as caught:
        services.reservation_create(key="checkout:2", lines=[(stock.sku, 1)])

    assert caught.value.skus == [stock.sku]


def test_reservation_create_is_idempotent_on_its_key():
    stock = StockFactory(on_hand=10)
    first = services.reservation_create(key="checkout:1", lines=[(stock.sku, 4)])

    again = services.reservation_create(key="checkout:1", lines=[(stock.sku, 4)])

    assert again.pk == first.pk
    assert numbers(stock) == (10, 4, 6)
    assert selectors.reservation_for_key(key="checkout:1").pk == first.pk


@pytest.mark.parametrize(
    "lines",
    [[], [("A", 0)], [("A", -1)], [("A", "2")], [("A", True)], [("A", 1.5)], [("", 1)], [("A", 10**9)]],
)
def test_malformed_lines_are_refused(lines):
    with pytest.raises(ValidationError):
        services.reservation_create(key="checkout:1", lines=lines)


def test_release_gives_the_units_back_once():
    stock = StockFactory(on_hand=5)
    reservation = services.reservation_create(key="checkout:1", lines=[(stock.sku, 4)])

    services.reservation_release(reservation_id=reservation.pk)
    again = services.reservation_release(reservation_id=reservation.pk)

    assert again.status == Reservation.Status.RELEASED
    assert numbers(stock) == (5, 0, 5)


def test_release_of_an_unknown_reservation_is_not_found():
    with pytest.raises(services.ReservationNotFound):
        services.reservation_release(reservation_id=123456)


def test_expiry_releases_exactly_what_was_held_and_leaves_the_rest():
    stock = StockFactory(on_hand=20)
    stale = [
        services.reservation_create(key=f"old:{i}", lines=[(stock.sku, i + 1)], ttl=timedelta(minutes=1))
        for i in range(3)
    ]  # 1 + 2 + 3 units
    fresh = services.reservation_create(key="new", lines=[(stock.sku, 4)], ttl=timedelta(minutes=30))

    expired = services.reservations_expire(now=timezone.now() + timedelta(minutes=5))

    assert expired == 3
    assert numbers(stock) == (20, 4, 16)
    assert {r.status for r in Reservation.objects.filter(pk__in=[r.pk for r in stale])} == {"expired"}
    fresh.refresh_from_db()
    assert fresh.status == Reservation.Status.HELD
    assert services.reservations_expire(now=timezone.now() + timedelta(minutes=5)) == 0


def test_commit_sells_the_units_once_with_a_movement():
    stock = StockFactory(on_hand=5)
    reservation = services.reservation_create(key="checkout:1", lines=[(stock.sku, 2), (stock.sku, 1)])

    services.reservation_commit(reservation_id=reservation.pk)
    again = services.reservation_commit(reservation_id=reservation.pk)

    assert again.status == Reservation.Status.COMMITTED
    assert numbers(stock) == (2, 0, 2)
    movement = StockMovement.objects.get()
    assert (movement.delta, movement.on_hand_after, movement.reason) == (-3, 2, "sold")
    # a committed reservation is not released or expired afterwards
    services.reservation_release(reservation_id=reservation.pk)
    assert services.reservations_expire(now=timezone.now() + timedelta(days=1)) == 0
    assert numbers(stock) == (2, 0, 2)


def test_commit_after_expiry_reserves_again_when_the_stock_is_still_there():
    stock = StockFactory(on_hand=5)
    reservation = services.reservation_create(key="checkout:1", lines=[(stock.sku, 2)], ttl=timedelta(seconds=1))
    services.reservations_expire(now=timezone.now() + timedelta(minutes=1))

    services.reservation_commit(reservation_id=reservation.pk)

    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.COMMITTED
    assert numbers(stock) == (3, 0, 3)


def test_commit_after_expiry_lapses_when_the_units_were_sold_meanwhile():
    stock = StockFactory(on_hand=2)
    reservation = services.reservation_create(key="checkout:1", lines=[(stock.sku, 2)], ttl=timedelta(seconds=1))
    services.reservations_expire(now=timezone.now() + timedelta(minutes=1))
    services.reservation_create(key="checkout:2", lines=[(stock.sku, 1)])

    with pytest.raises(ReservationLapsed) as caught:
        services.reservation_commit(reservation_id=reservation.pk)

    assert caught.value.skus == [stock.sku]
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.EXPIRED
    assert numbers(stock) == (2, 1, 1)
    assert not StockMovement.objects.exists()


def test_seller_cannot_set_on_hand_below_what_reservations_hold():
    stock = StockFactory(on_hand=5)
    services.reservation_create(key="checkout:1", lines=[(stock.sku, 4)])

    with pytest.raises(services.StockConflict):
        services.stock_adjust(sku=stock.sku, delta=-2, reason="damaged")

    assert numbers(stock) == (5, 4, 1)


# --- low stock -------------------------------------------------------------------------------------


def test_low_stock_is_announced_once_per_crossing_and_rearmed_above_the_threshold():
    stock = StockFactory(on_hand=10, low_stock_threshold=5)
    seller_id = stock.variant.product.seller_id

    services.reservation_create(key="r1", lines=[(stock.sku, 3)])  # 7 left: fine
    second = services.reservation_create(key="r2", lines=[(stock.sku, 2)])  # 5 left: crosses
    services.reservation_create(key="r3", lines=[(stock.sku, 1)])  # 4 left: still low, no second alert
    assert events(services.LOW_STOCK) == [
        {"sku": stock.sku, "variant_id": stock.variant_id, "seller_id": seller_id, "available": 5, "threshold": 5}
    ]

    services.reservation_release(reservation_id=second.pk)  # 6 left: above again, re-armed
    services.stock_adjust(sku=stock.sku, delta=-3, reason="damaged")  # 3 left: crosses again
    services.reservation_create(key="r4", lines=[(stock.sku, 1)])  # 2 left: no alert

    assert [event["available"] for event in events(services.LOW_STOCK)] == [5, 3]


def test_a_new_stock_record_that_starts_low_is_not_a_crossing():
    from catalog.tests.factories import VariantFactory

    variant = VariantFactory()
    services.stock_set(variant=variant, on_hand=2, reason="initial stock")
    services.stock_adjust(sku=variant.sku, delta=-1, reason="damaged")

    assert events(services.LOW_STOCK) == []
    services.stock_adjust(sku=variant.sku, delta=10, reason="delivery")
    services.stock_adjust(sku=variant.sku, delta=-10, reason="recount")
    assert len(events(services.LOW_STOCK)) == 1
