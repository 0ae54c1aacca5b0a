"""Flash-sale mode: the Redis token bucket admits only as many buyers as there are units; the
database stays the authority. Real Redis (REDIS_URL, test database) and real PostgreSQL."""

import threading
from datetime import timedelta

import pytest
import redis
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from inventory import selectors, services, token_bucket
from inventory.models import Reservation, Stock
from inventory.services import FlashSaleUnavailable, OutOfStock
from inventory.tests.conftest import run_concurrently
from inventory.tests.factories import StockFactory


def tokens(sku: str) -> int | None:
    return selectors.flash_sale_tokens(sku=sku)


@pytest.mark.django_db
def test_open_loads_the_available_units_and_admit_never_goes_below_zero():
    stock = StockFactory(on_hand=10, reserved=3)

    assert services.flash_sale_open(sku=stock.sku) == 7
    assert Stock.objects.get(pk=stock.pk).flash_sale
    assert services.flash_sale_admit(sku=stock.sku, quantity=5)
    assert not services.flash_sale_admit(sku=stock.sku, quantity=3)  # 2 left: refused, nothing taken
    assert services.flash_sale_admit(sku=stock.sku, quantity=2)
    assert not services.flash_sale_admit(sku=stock.sku, quantity=1)
    assert tokens(stock.sku) == 0


@pytest.mark.django_db
def test_a_refused_reservation_gives_its_tokens_back():
    scarce, plenty = StockFactory(on_hand=10), StockFactory(on_hand=1)
    services.flash_sale_open(sku=scarce.sku)

    with pytest.raises(OutOfStock) as caught:  # admitted for the flash SKU, short on the other
        services.reservation_create(key="checkout:1", lines=[(scarce.sku, 2), (plenty.sku, 2)])

    assert caught.value.skus == [plenty.sku]
    assert tokens(scarce.sku) == 10
    assert not Reservation.objects.exists()


@pytest.mark.django_db
def test_released_and_expired_reservations_give_their_tokens_back(django_capture_on_commit_callbacks):
    stock = StockFactory(on_hand=10)
    services.flash_sale_open(sku=stock.sku)
    released = services.reservation_create(key="checkout:1", lines=[(stock.sku, 3)])
    services.reservation_create(key="checkout:2", lines=[(stock.sku, 2)], ttl=timedelta(seconds=1))
    services.reservation_create(key="checkout:3", lines=[(stock.sku, 1)])
    assert tokens(stock.sku) == 4

    with django_capture_on_commit_callbacks(execute=True):
        services.reservation_release(reservation_id=released.pk)
        services.reservations_expire(now=timezone.now() + timedelta(minutes=1))

    assert tokens(stock.sku) == 9
    stock.refresh_from_db()
    assert stock.available == 9


@pytest.mark.django_db
def test_reconcile_sets_the_bucket_to_what_the_database_has_available():
    stock = StockFactory(on_hand=10)
    services.flash_sale_open(sku=stock.sku)
    services.reservation_create(key="checkout:1", lines=[(stock.sku, 4)])
    token_bucket.set_tokens(stock.sku, 0)  # drift: say, an admitted buyer whose transaction rolled back

    assert services.flash_sale_reconcile(sku=stock.sku) == 6
    assert tokens(stock.sku) == 6
    assert services.flash_sale_reconcile(sku=StockFactory().sku) is None  # not in flash-sale mode


@pytest.mark.django_db
def test_a_bucket_lost_by_redis_is_rebuilt_from_the_database():
    stock = StockFactory(on_hand=10)
    services.flash_sale_open(sku=stock.sku)
    services.reservation_create(key="checkout:1", lines=[(stock.sku, 4)])
    token_bucket.delete(stock.sku)  # Redis restarted without persistence

    services.reservation_create(key="checkout:2", lines=[(stock.sku, 1)])

    assert tokens(stock.sku) == 5


@pytest.mark.django_db
def test_close_goes_back_to_the_normal_path(django_capture_on_commit_callbacks):
    stock = StockFactory(on_hand=10)
    services.flash_sale_open(sku=stock.sku)

    with django_capture_on_commit_callbacks(execute=True):
        services.flash_sale_close(sku=stock.sku)

    assert tokens(stock.sku) is None
    assert services.reservation_create(key="checkout:1", lines=[(stock.sku, 2)]).status == "held"


@pytest.mark.django_db
def test_without_redis_the_flash_sale_refuses_politely_and_reserves_nothing(monkeypatch):
    stock = StockFactory(on_hand=10)
    services.flash_sale_open(sku=stock.sku)
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr(token_bucket, "get_redis_connection", lambda alias: unreachable)

    with pytest.raises(FlashSaleUnavailable, match="try again"):
        services.reservation_create(key="checkout:1", lines=[(stock.sku, 1)])
    with pytest.raises(FlashSaleUnavailable):
        services.flash_sale_open(sku=StockFactory().sku)

    stock.refresh_from_db()
    assert stock.reserved == 0
    assert not Reservation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_racing_through_the_flash_sale_for_ten_units(monkeypatch, sampler):
    stock = StockFactory(on_hand=10)
    services.flash_sale_open(sku=stock.sku)
    database_attempts = []
    reserve = services._reserve
    counting = threading.Lock()

    def counted_reserve(**kwargs):
        with counting:
            database_attempts.append(kwargs["key"])
        return reserve(**kwargs)

    monkeypatch.setattr(services, "_reserve", counted_reserve)

    with sampler(lambda: token_bucket.tokens(stock.sku)) as watch:
        results = run_concurrently(
            50, lambda i: services.reservation_create(key=f"checkout:{i}", lines=[(stock.sku, 1)])
        )

    won = [r for r in results if isinstance(r, Reservation)]
    assert len(won) == 10, [r for r in results if not isinstance(r, Reservation | OutOfStock)]
    assert len(database_attempts) == 10  # the other 40 never reached the database
    assert watch.samples > 0
    assert watch.lowest >= 0
    assert tokens(stock.sku) == 0
    stock.refresh_from_db()
    assert (stock.reserved, stock.available) == (10, 0)

    # releases give tokens back after commit; reconcile agrees with the database
    for reservation in won[:3]:
        services.reservation_release(reservation_id=reservation.pk)
    assert tokens(stock.sku) == 3
    token_bucket.set_tokens(stock.sku, 0)
    assert services.flash_sale_reconcile(sku=stock.sku) == 3
    assert tokens(stock.sku) == 3


@pytest.mark.django_db(transaction=True)
def test_the_reconcile_task_covers_every_flash_sale_sku():
    from inventory.tasks import flash_sale_reconcile_task

    first, second, normal = StockFactory(on_hand=4), StockFactory(on_hand=6), StockFactory(on_hand=8)
    services.flash_sale_open(sku=first.sku)
    services.flash_sale_open(sku=second.sku)
    token_bucket.set_tokens(first.sku, 0)
    token_bucket.set_tokens(second.sku, 99)

    assert flash_sale_reconcile_task() == 2
    assert (tokens(first.sku), tokens(second.sku), tokens(normal.sku)) == (4, 6, None)
