"""Restocking sold units (a cancelled sub-order) and holding a reservation while a payment is in
flight: the two inventory services the orders saga adds."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import services
from inventory.models import Reservation, StockMovement
from inventory.tests.factories import StockFactory

pytestmark = pytest.mark.django_db


def test_restock_puts_units_back_once_per_key():
    a, b = StockFactory(on_hand=2, sku="RESTOCK-A"), StockFactory(on_hand=0, sku="RESTOCK-B")

    for _ in range(3):
        services.stock_restock(lines=[(a.sku, 2), (b.sku, 1), (a.sku, 1)], reason="order cancelled", key="sub-order:7")

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.on_hand, b.on_hand) == (5, 1)
    assert list(StockMovement.objects.filter(stock=a).values_list("delta", "reason")) == [
        (3, "order cancelled #sub-order:7")
    ]
    services.stock_restock(lines=[(a.sku, 1)], reason="order cancelled", key="sub-order:8")
    a.refresh_from_db()
    assert a.on_hand == 6


def test_restock_skips_skus_without_stock_and_needs_a_reason():
    services.stock_restock(lines=[("GONE-1", 1)], reason="cancelled", key="k")
    with pytest.raises(Exception, match="reason"):
        services.stock_restock(lines=[("GONE-1", 1)], reason=" ", key="k2")


def test_reservation_extend_only_lengthens_a_held_reservation():
    stock = StockFactory(on_hand=3)
    reservation = services.reservation_create(key="checkout:1", lines=[(stock.sku, 1)], ttl=timedelta(minutes=10))
    later = timezone.now() + timedelta(minutes=30)

    services.reservation_extend(reservation_id=reservation.pk, expires_at=later)
    services.reservation_extend(reservation_id=reservation.pk, expires_at=timezone.now())  # never shortens

    reservation.refresh_from_db()
    assert reservation.expires_at == later
    assert services.reservations_expire(now=timezone.now() + timedelta(minutes=20)) == 0
    services.reservation_release(reservation_id=reservation.pk)
    services.reservation_extend(reservation_id=reservation.pk, expires_at=later + timedelta(hours=1))
    assert Reservation.objects.get(pk=reservation.pk).status == "released"
