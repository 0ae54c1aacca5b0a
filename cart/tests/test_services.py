from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.tests.factories import UserFactory
from cart import selectors, services
from cart.models import DurableCart
from cart.selectors import CartOwner
from sellers.models import Seller

pytestmark = pytest.mark.django_db

THIRTY_DAYS = 30 * 24 * 3600


def guest(name: str = "g1") -> CartOwner:
    return CartOwner(guest_id=f"{name:0>32}")


def stored(redis, owner: CartOwner) -> dict:
    return {sku.decode(): json.loads(raw) for sku, raw in redis.hgetall(owner.key).items()}


# --- adding and limits -------------------------------------------------------------------------------


def test_adding_stores_a_line_with_a_price_snapshot_in_a_hash_with_a_30_day_ttl(make_variant, user, redis):
    variant = make_variant(price="12.50")
    owner = CartOwner(user=user)

    assert services.cart_line_add(owner=owner, sku=variant.sku, quantity=2) == 2

    line = stored(redis, owner)[variant.sku]
    assert line["quantity"] == 2
    assert line["unit_price"] == "12.50"
    assert line["currency"] == "EUR"
    assert line["added_at"]
    assert owner.key == f"cart:user:{user.pk}"
    assert THIRTY_DAYS - 5 <= redis.ttl(owner.key) <= THIRTY_DAYS


def test_every_change_renews_the_ttl(make_variant, redis):
    first, second = make_variant(), make_variant()
    owner = guest()
    services.cart_line_add(owner=owner, sku=first.sku, quantity=1)

    for change in (
        lambda: services.cart_line_add(owner=owner, sku=first.sku, quantity=1),
        lambda: services.cart_line_add(owner=owner, sku=second.sku, quantity=1),
        lambda: services.cart_line_set(owner=owner, sku=first.sku, quantity=5),
        lambda: services.cart_line_remove(owner=owner, sku=second.sku),
    ):
        redis.expire(owner.key, 60)
        change()
        assert redis.ttl(owner.key) > THIRTY_DAYS - 5


def test_adding_again_adds_up(make_variant):
    variant = make_variant()
    owner = guest()
    services.cart_line_add(owner=owner, sku=variant.sku, quantity=2)

    assert services.cart_line_add(owner=owner, sku=variant.sku, quantity=3) == 5


def test_adding_more_than_available_is_out_of_stock_and_changes_nothing(make_variant, redis):
    variant = make_variant(on_hand=3)
    owner = guest()
    services.cart_line_add(owner=owner, sku=variant.sku, quantity=2)

    with pytest.raises(services.OutOfStock) as excinfo:
        services.cart_line_add(owner=owner, sku=variant.sku, quantity=2)

    assert excinfo.value.skus == [variant.sku]
    assert stored(redis, owner)[variant.sku]["quantity"] == 2


@pytest.mark.parametrize("quantity", [0, -1, 21, 10**9, "abc", "2", 2.0, True, None])
def test_a_quantity_outside_one_to_the_line_maximum_is_invalid(make_variant, quantity):
    variant = make_variant(on_hand=100)

    with pytest.raises(ValidationError) as excinfo:
        services.cart_line_add(owner=guest(), sku=variant.sku, quantity=quantity)

    assert "quantity" in excinfo.value.message_dict


def test_a_line_cannot_pass_the_per_line_maximum(make_variant, settings):
    settings.CART_MAX_LINE_QUANTITY = 5
    variant = make_variant(on_hand=100)
    owner = guest()
    services.cart_line_add(owner=owner, sku=variant.sku, quantity=4)

    with pytest.raises(services.CartLimitExceeded):
        services.cart_line_add(owner=owner, sku=variant.sku, quantity=2)


def test_a_cart_holds_at_most_the_maximum_of_lines(make_variant, settings):
    settings.CART_MAX_LINES = 2
    variants = [make_variant() for _ in range(3)]
    owner = guest()
    services.cart_line_add(owner=owner, sku=variants[0].sku, quantity=1)
    services.cart_line_add(owner=owner, sku=variants[1].sku, quantity=1)

    with pytest.raises(services.CartLimitExceeded):
        services.cart_line_add(owner=owner, sku=variants[2].sku, quantity=1)
    services.cart_line_add(owner=owner, sku=variants[0].sku, quantity=1)  # a line it has still grows


def test_unknown_inactive_and_delisted_skus_cannot_be_added(make_variant):
    inactive = make_variant(is_active=False)
    archived = make_variant()
    archived.product.status = "archived"
    archived.product.save()
    suspended = make_variant()
    Seller.objects.filter(pk=suspended.product.seller_id).update(status=Seller.Status.SUSPENDED)

    for sku in ("NOPE-1", inactive.sku, archived.sku, suspended.sku, "", "x" * 65):
        with pytest.raises(ValidationError) as excinfo:
            services.cart_line_add(owner=guest(), sku=sku, quantity=1)
        assert "sku" in excinfo.value.message_dict


def test_setting_a_quantity_keeps_the_snapshot_and_zero_removes(make_variant, redis):
    variant = make_variant(price="10.00")
    owner = guest()
    services.cart_line_add(owner=owner, sku=variant.sku, quantity=1)
    variant.price = Decimal("11.00")
    variant.save()

    services.cart_line_set(owner=owner, sku=variant.sku, quantity=4)
    assert stored(redis, owner)[variant.sku] | {"added_at": None} == {
        "quantity": 4,
        "unit_price": "10.00",
        "currency": "EUR",
        "added_at": None,
    }

    services.cart_line_set(owner=owner, sku=variant.sku, quantity=0)
    assert stored(redis, owner) == {}
    with pytest.raises(services.CartLineNotFound):
        services.cart_line_set(owner=owner, sku=variant.sku, quantity=0)
    with pytest.raises(services.CartLineNotFound):
        services.cart_line_set(owner=owner, sku=variant.sku, quantity=2)


def test_a_line_can_be_lowered_below_what_is_available_but_not_raised(make_variant):
    variant = make_variant(on_hand=5)
    owner = guest()
    services.cart_line_add(owner=owner, sku=variant.sku, quantity=5)
    variant.stock.on_hand = 2
    variant.stock.save()

    assert services.cart_line_set(owner=owner, sku=variant.sku, quantity=4) == 4
    with pytest.raises(services.OutOfStock):
        services.cart_line_set(owner=owner, sku=variant.sku, quantity=5)


# --- reading -------------------------------------------------------------------------------------


def test_a_price_change_is_detected_and_the_subtotal_uses_current_prices(make_variant):
    cheaper, dearer, same = make_variant(price="10.00"), make_variant(price="20.00"), make_variant(price="5.00")
    owner = guest()
    for variant in (cheaper, dearer, same):
        services.cart_line_add(owner=owner, sku=variant.sku, quantity=2)
    cheaper.price = Decimal("8.00")
    cheaper.save()
    dearer.price = Decimal("25.00")
    dearer.save()

    cart = selectors.cart_get(owner=owner)

    lines = {line.sku: line for line in cart.lines}
    assert (lines[cheaper.sku].unit_price, lines[cheaper.sku].current_price) == (Decimal("10.00"), Decimal("8.00"))
    assert lines[cheaper.sku].price_changed
    assert lines[dearer.sku].price_changed
    assert not lines[same.sku].price_changed
    assert cart.subtotal == Decimal("76.00")
    assert [line.sku for line in cart.price_changes] == [cheaper.sku, dearer.sku]


def test_adding_again_takes_the_price_shown_now_as_the_snapshot(make_variant):
    variant = make_variant(price="10.00")
    owner = guest()
    services.cart_line_add(owner=owner, sku=variant.sku, quantity=1)
    variant.price = Decimal("12.00")
    variant.save()

    services.cart_line_add(owner=owner, sku=variant.sku, quantity=1)

    assert not selectors.cart_get(owner=owner).lines[0].price_changed


def test_lines_no_longer_sold_are_dropped_and_reported_once(make_variant, redis):
    kept, archived, suspended, inactive = (make_variant(title=f"Item {n}") for n in range(4))
    owner = guest()
    for variant in (kept, archived, suspended, inactive):
        services.cart_line_add(owner=owner, sku=variant.sku, quantity=1)
    archived.product.status = "archived"
    archived.product.save()
    Seller.objects.filter(pk=suspended.product.seller_id).update(status=Seller.Status.SUSPENDED)
    inactive.is_active = False
    inactive.save()

    cart = selectors.cart_get(owner=owner)

    assert [line.sku for line in cart.lines] == [kept.sku]
    assert sorted(line.title for line in cart.removed) == ["Item 1", "Item 2", "Item 3"]
    assert set(stored(redis, owner)) == {kept.sku}
    assert selectors.cart_get(owner=owner).removed == []


def test_the_line_count_is_the_number_of_lines(make_variant):
    owner = guest()
    assert selectors.cart_line_count(owner=owner) == 0
    for variant in (make_variant(), make_variant()):
        services.cart_line_add(owner=owner, sku=variant.sku, quantity=3)

    assert selectors.cart_line_count(owner=owner) == 2


# --- durable carts -------------------------------------------------------------------------------


def test_a_business_buyers_cart_survives_a_redis_flush(make_variant, business_user, redis):
    variant = make_variant(price="3.00")
    owner = CartOwner(user=business_user)
    services.cart_line_add(owner=owner, sku=variant.sku, quantity=2)
    assert DurableCart.objects.get(user=business_user).lines[variant.sku]["quantity"] == 2

    redis.flushdb()
    cart = selectors.cart_get(owner=owner)

    assert [(line.sku, line.quantity, line.unit_price) for line in cart.lines] == [(variant.sku, 2, Decimal("3.00"))]
    assert stored(redis, owner)[variant.sku]["quantity"] == 2  # back in Redis
    assert redis.ttl(owner.key) > THIRTY_DAYS - 5


def test_a_large_cart_is_durable_and_stops_being_so_below_the_threshold(make_variant, user, redis):
    variant = make_variant(price="100.00")
    owner = CartOwner(user=user)
    services.cart_line_add(owner=owner, sku=variant.sku, quantity=4)
    assert not DurableCart.objects.exists()  # 400.00: below 500.00

    services.cart_line_add(owner=owner, sku=variant.sku, quantity=1)
    assert DurableCart.objects.filter(user=user).exists()
    redis.flushdb()
    assert selectors.cart_get(owner=owner).item_count == 5

    services.cart_line_set(owner=owner, sku=variant.sku, quantity=1)
    assert not DurableCart.objects.exists()  # an old copy must never come back over a smaller cart


def test_an_ordinary_cart_is_lost_with_redis(make_variant, user, redis):
    variant = make_variant(price="10.00")
    owner = CartOwner(user=user)
    services.cart_line_add(owner=owner, sku=variant.sku, quantity=1)

    redis.flushdb()

    assert selectors.cart_get(owner=owner).lines == []


def test_a_durable_cart_is_read_only_from_postgres_when_redis_is_down(make_variant, business_user, redis_down):
    owner = CartOwner(user=business_user)
    variant = make_variant(price="7.00")
    DurableCart.objects.create(
        user=business_user,
        lines={variant.sku: {"quantity": 3, "unit_price": "7.00", "currency": "EUR", "added_at": "2026-01-01"}},
    )

    cart = selectors.cart_get(owner=owner)

    assert cart.read_only
    assert [(line.sku, line.quantity) for line in cart.lines] == [(variant.sku, 3)]
    with pytest.raises(services.CartUnavailable):
        services.cart_line_add(owner=owner, sku=variant.sku, quantity=1)


def test_without_redis_other_carts_are_unavailable_and_the_count_is_zero(make_variant, user, redis_down, rf):
    with pytest.raises(services.CartUnavailable):
        selectors.cart_get(owner=CartOwner(user=user))
    with pytest.raises(services.CartUnavailable):
        selectors.cart_get(owner=guest())
    request = rf.get("/")
    request.user = user
    assert selectors.cart_count_for_request(request) == 0


# --- merge ---------------------------------------------------------------------------------------


def test_merge_adds_quantities_keeps_snapshots_by_rule_and_deletes_the_guest_cart(make_variant, user, redis):
    both = make_variant(price="10.00", on_hand=50)
    guest_only = make_variant(price="20.00")
    user_only = make_variant(price="30.00")
    owner, visitor = CartOwner(user=user), guest()
    services.cart_line_add(owner=owner, sku=both.sku, quantity=2)
    services.cart_line_add(owner=owner, sku=user_only.sku, quantity=1)
    both.price = Decimal("11.00")
    both.save()
    services.cart_line_add(owner=visitor, sku=both.sku, quantity=3)  # snapshot 11.00
    services.cart_line_add(owner=visitor, sku=guest_only.sku, quantity=4)
    guest_only.price = Decimal("22.00")
    guest_only.save()

    result = services.cart_merge(guest_id=visitor.guest_id, user=user)

    lines = stored(redis, owner)
    assert {sku: line["quantity"] for sku, line in lines.items()} == {both.sku: 5, guest_only.sku: 4, user_only.sku: 1}
    assert lines[both.sku]["unit_price"] == "10.00"  # the user's own snapshot
    assert lines[guest_only.sku]["unit_price"] == "20.00"  # the guest's snapshot
    assert result.capped == []
    assert result.dropped == []
    assert not redis.exists(visitor.key)
    assert redis.ttl(owner.key) > THIRTY_DAYS - 5


def test_merge_caps_at_availability_and_the_line_maximum_but_never_lowers_the_users_own(make_variant, user, settings):
    settings.CART_MAX_LINE_QUANTITY = 6
    scarce = make_variant(on_hand=4)
    plenty = make_variant(on_hand=100)
    shrunk = make_variant(on_hand=10)
    new_scarce = make_variant(on_hand=3)
    owner, visitor = CartOwner(user=user), guest()
    services.cart_line_add(owner=owner, sku=scarce.sku, quantity=3)
    services.cart_line_add(owner=owner, sku=plenty.sku, quantity=4)
    services.cart_line_add(owner=owner, sku=shrunk.sku, quantity=5)
    services.cart_line_add(owner=visitor, sku=scarce.sku, quantity=3)
    services.cart_line_add(owner=visitor, sku=plenty.sku, quantity=4)
    services.cart_line_add(owner=visitor, sku=shrunk.sku, quantity=1)
    services.cart_line_add(owner=visitor, sku=new_scarce.sku, quantity=3)
    shrunk.stock.on_hand = 2
    shrunk.stock.save()
    new_scarce.stock.reserved = 2  # a checkout took two meanwhile
    new_scarce.stock.save()

    result = services.cart_merge(guest_id=visitor.guest_id, user=user)

    assert result.merged == {scarce.sku: 4, plenty.sku: 6, shrunk.sku: 5, new_scarce.sku: 1}
    assert sorted(result.capped) == sorted([scarce.sku, plenty.sku, shrunk.sku, new_scarce.sku])


def test_merge_drops_lines_no_longer_sold_or_unavailable_and_respects_the_line_limit(make_variant, user, settings):
    settings.CART_MAX_LINES = 2
    own = make_variant()
    gone = make_variant()
    sold_out = make_variant()
    first, second = make_variant(), make_variant()
    owner, visitor = CartOwner(user=user), guest()
    services.cart_line_add(owner=owner, sku=own.sku, quantity=1)
    for variant in (gone, sold_out, first, second):
        settings.CART_MAX_LINES = 50
        services.cart_line_add(owner=visitor, sku=variant.sku, quantity=1)
    settings.CART_MAX_LINES = 2
    gone.product.status = "archived"
    gone.product.save()
    sold_out.stock.on_hand = 0
    sold_out.stock.save()

    result = services.cart_merge(guest_id=visitor.guest_id, user=user)

    assert set(result.merged) == {first.sku}
    assert set(result.dropped) == {gone.sku, sold_out.sku, second.sku}
    assert selectors.cart_line_count(owner=owner) == 2


def test_merge_into_a_durable_cart_redis_lost_adds_to_the_saved_copy(make_variant, business_user, redis):
    saved, added = make_variant(), make_variant()
    owner, visitor = CartOwner(user=business_user), guest()
    services.cart_line_add(owner=owner, sku=saved.sku, quantity=2)
    redis.delete(owner.key)
    services.cart_line_add(owner=visitor, sku=added.sku, quantity=1)

    services.cart_merge(guest_id=visitor.guest_id, user=business_user)

    assert {line.sku: line.quantity for line in selectors.cart_get(owner=owner).lines} == {saved.sku: 2, added.sku: 1}
    assert set(DurableCart.objects.get(user=business_user).lines) == {saved.sku, added.sku}


def test_merging_an_empty_or_missing_guest_cart_changes_nothing(make_variant, user):
    variant = make_variant()
    owner = CartOwner(user=user)
    services.cart_line_add(owner=owner, sku=variant.sku, quantity=1)

    assert services.cart_merge(guest_id=guest("none").guest_id, user=user) == services.MergeResult()
    assert selectors.cart_line_count(owner=owner) == 1


def test_clear_empties_the_cart_and_its_durable_copy(make_variant, business_user):
    variant = make_variant()
    owner = CartOwner(user=business_user)
    services.cart_line_add(owner=owner, sku=variant.sku, quantity=1)

    services.cart_clear(owner=owner)

    assert selectors.cart_get(owner=owner).lines == []
    assert not DurableCart.objects.exists()


def test_two_users_carts_are_separate(make_variant):
    variant = make_variant()
    first, second = CartOwner(user=UserFactory()), CartOwner(user=UserFactory())
    services.cart_line_add(owner=first, sku=variant.sku, quantity=1)

    assert selectors.cart_get(owner=second).lines == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_never_pass_availability_together(make_variant, redis):
    # Real threads, each with its own database connection: the check and the write of a line are
    # one Lua script, so racing adds cannot together pass the availability each of them saw.
    variant = make_variant(on_hand=5)
    owner = guest("race")

    def add(_: int):
        return services.cart_line_add(owner=owner, sku=variant.sku, quantity=1)

    barrier = threading.Barrier(12)
    results: list = [None] * 12

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = add(index)
        except Exception as exc:  # handed to the assertions below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sum(isinstance(result, int) for result in results) == 5
    assert all(isinstance(result, int | services.OutOfStock) for result in results)
    assert stored(redis, owner)[variant.sku]["quantity"] == 5
