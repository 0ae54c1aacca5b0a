import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from accounts.tests.factories import UserFactory
from catalog.tests.factories import VariantFactory
from inventory import selectors, services
from inventory.models import Stock, StockMovement
from inventory.services import StockConflict, StockNotFound
from inventory.tests.factories import StockFactory
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


def stock_events():
    return [event.payload for event in OutboxEvent.objects.filter(name=services.STOCK_CHANGED).order_by("created_at")]


# --- stock_set ------------------------------------------------------------------------------------


def test_stock_set_creates_the_record_with_a_movement_naming_who_and_why():
    variant = VariantFactory(sku="TEE-M")
    seller_user = UserFactory()

    stock = services.stock_set(variant=variant, on_hand=12, actor=seller_user, reason="initial stock")

    assert (stock.sku, stock.on_hand, stock.reserved, stock.available) == ("TEE-M", 12, 0, 12)
    (movement,) = StockMovement.objects.all()
    assert (movement.delta, movement.on_hand_after, movement.reason, movement.actor) == (
        12,
        12,
        "initial stock",
        seller_user,
    )


def test_stock_set_records_the_difference_and_publishes_stock_changed():
    stock = StockFactory(on_hand=10, reserved=3)

    services.stock_set(variant=stock.variant, on_hand=4)

    stock.refresh_from_db()
    assert stock.on_hand == 4
    movement = StockMovement.objects.get()
    assert (movement.delta, movement.on_hand_after, movement.reason) == (-6, 4, "set by seller")
    assert stock_events() == [
        {"sku": stock.sku, "variant_id": stock.variant_id, "on_hand": 4, "reserved": 3, "available": 1}
    ]


def test_stock_set_to_the_same_count_records_and_publishes_nothing():
    stock = StockFactory(on_hand=10)

    services.stock_set(variant=stock.variant, on_hand=10)

    assert not StockMovement.objects.exists()
    assert stock_events() == []


def test_stock_set_below_reserved_is_a_conflict_and_changes_nothing():
    stock = StockFactory(on_hand=10, reserved=4)

    with pytest.raises(StockConflict, match="4 of the units on hand are reserved"):
        services.stock_set(variant=stock.variant, on_hand=3)

    stock.refresh_from_db()
    assert stock.on_hand == 10
    assert not StockMovement.objects.exists()
    assert stock_events() == []


@pytest.mark.parametrize("on_hand", [-1, 1_000_001, "5", 2.0, True, None])
def test_stock_set_refuses_what_is_not_a_count(on_hand):
    variant = VariantFactory()

    with pytest.raises(ValidationError) as caught:
        services.stock_set(variant=variant, on_hand=on_hand)

    assert "on_hand" in caught.value.message_dict
    assert not Stock.objects.exists()


def test_a_stock_event_in_a_rolled_back_transaction_is_never_published():
    variant = VariantFactory()

    class Abort(Exception):
        pass

    def set_then_fail():
        with transaction.atomic():
            services.stock_set(variant=variant, on_hand=5)
            raise Abort

    with pytest.raises(Abort):
        set_then_fail()

    assert stock_events() == []
    assert not Stock.objects.exists()


# --- stock_adjust ---------------------------------------------------------------------------------


def test_stock_adjust_adds_and_removes_units_with_a_reason():
    stock = StockFactory(on_hand=10)
    actor = UserFactory()

    services.stock_adjust(sku=stock.sku, delta=5, reason="delivery", actor=actor)
    adjusted = services.stock_adjust(sku=stock.sku, delta=-2, reason="damaged")

    assert adjusted.on_hand == 13
    assert list(StockMovement.objects.order_by("id").values_list("delta", "on_hand_after", "reason", "actor")) == [
        (5, 15, "delivery", actor.pk),
        (-2, 13, "damaged", None),
    ]
    assert [event["on_hand"] for event in stock_events()] == [15, 13]


def test_stock_adjust_creates_the_record_of_a_variant_that_had_none():
    variant = VariantFactory(sku="NEW-1")

    stock = services.stock_adjust(sku="NEW-1", delta=3, reason="delivery")

    assert (stock.variant, stock.on_hand) == (variant, 3)


def test_stock_adjust_below_reserved_is_a_conflict():
    stock = StockFactory(on_hand=5, reserved=2)

    with pytest.raises(StockConflict):
        services.stock_adjust(sku=stock.sku, delta=-4, reason="lost")

    stock.refresh_from_db()
    assert stock.on_hand == 5


def test_stock_adjust_below_zero_is_a_conflict():
    stock = StockFactory(on_hand=1, reserved=0)

    with pytest.raises(StockConflict, match="fewer than 0"):
        services.stock_adjust(sku=stock.sku, delta=-2, reason="lost")


def test_stock_adjust_of_an_unknown_sku_is_not_found():
    with pytest.raises(StockNotFound):
        services.stock_adjust(sku="NOPE", delta=1, reason="delivery")


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201])
def test_stock_adjust_needs_a_short_reason(reason):
    stock = StockFactory()

    with pytest.raises(ValidationError) as caught:
        services.stock_adjust(sku=stock.sku, delta=1, reason=reason)

    assert "reason" in caught.value.message_dict


def test_stock_adjust_refuses_more_than_the_maximum_on_hand():
    stock = StockFactory(on_hand=999_999)

    with pytest.raises(ValidationError):
        services.stock_adjust(sku=stock.sku, delta=2, reason="delivery")


def test_the_database_check_is_a_second_guard_converted_to_a_conflict():
    stock = StockFactory(on_hand=10, reserved=6)
    stale = Stock.objects.get(pk=stock.pk)
    stale.reserved = 0  # as if the reservation had been made behind this copy's back

    with transaction.atomic():
        with pytest.raises(StockConflict):
            services._write(stale, on_hand=2, reason="recount", actor=None, created=False)
        # the refusal rolled back to a savepoint: the caller's transaction goes on
        assert Stock.objects.get(pk=stock.pk).on_hand == 10

    assert not StockMovement.objects.exists()


# --- selectors ------------------------------------------------------------------------------------


def test_availability_for_variants_is_one_query_and_zero_without_stock(django_assert_num_queries):
    stocked = StockFactory(on_hand=10, reserved=3)
    unstocked = VariantFactory()

    with django_assert_num_queries(1):
        availability = selectors.availability_for_variants(variant_ids=[stocked.variant_id, unstocked.pk])

    assert availability == {stocked.variant_id: 7, unstocked.pk: 0}


def test_availability_for_no_variants_makes_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors.availability_for_variants(variant_ids=[]) == {}


def test_stock_for_variants_maps_variant_ids_to_records():
    stock = StockFactory()

    assert selectors.stock_for_variants(variant_ids=[stock.variant_id, 0]) == {stock.variant_id: stock}
    assert selectors.stock_get(sku=stock.sku) == stock


# --- concurrency ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_removals_of_the_last_unit_cannot_both_succeed():
    stock = StockFactory(on_hand=1)
    barrier = threading.Barrier(2)
    outcomes = []

    def remove_one():
        try:
            barrier.wait()
            services.stock_adjust(sku=stock.sku, delta=-1, reason="sold elsewhere")
            outcomes.append("removed")
        except StockConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=remove_one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["conflict", "removed"]
    stock.refresh_from_db()
    assert stock.on_hand == 0
    assert StockMovement.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_stock_set_of_one_variant_creates_one_record():
    variant = VariantFactory()
    barrier = threading.Barrier(2)
    errors = []

    def set_stock(on_hand):
        try:
            barrier.wait()
            services.stock_set(variant=variant, on_hand=on_hand)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=set_stock, args=(n,)) for n in (4, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    stock = Stock.objects.get(variant=variant)
    assert stock.on_hand in (4, 9)
    assert list(StockMovement.objects.order_by("id").values_list("on_hand_after", flat=True))[-1] == stock.on_hand
