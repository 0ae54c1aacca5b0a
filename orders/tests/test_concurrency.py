"""Concurrency proofs with real threads, each on its own database connection, released together:
concurrent pay calls on one checkout charge once; a coupon's usage limit holds under concurrent
checkouts; the last units go to exactly as many buyers as there are units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tests.factories import AddressFactory, UserFactory
from inventory.models import Stock
from orders import services
from orders.models import Checkout, Order, PaymentAttempt
from orders.tests.conftest import charges_made, fill_cart, run_concurrently, start
from payments.models import PaymentIntent
from promotions.models import Coupon, CouponRedemption
from promotions.tests.factories import CouponFactory

pytestmark = pytest.mark.django_db(transaction=True)


def buyers(count: int) -> list:
    users = []
    for _ in range(count):
        user = UserFactory()
        AddressFactory(user=user, is_default=True)
        users.append(user)
    return users


@pytest.mark.parametrize("same_key", [False, True], ids=["distinct-keys", "one-key"])
def test_eight_concurrent_pay_calls_on_one_checkout_charge_once_and_make_one_order(buyer, make_variant, same_key):
    variant = make_variant(on_hand=5)
    fill_cart(buyer, (variant, 1))
    checkout = start(buyer)

    def pay(i: int):
        key = "the-key" if same_key else f"key-{i}"
        return services.checkout_pay(user=buyer, checkout_id=checkout.pk, idempotency_key=key, token="tok_visa")

    results = run_concurrently(8, pay)

    unexpected = [r for r in results if not isinstance(r, services.PayResult | services.CheckoutConflict)]
    assert not unexpected, unexpected
    assert charges_made() == 1
    assert PaymentIntent.objects.count() == 1
    assert Order.objects.count() == 1
    assert Order.objects.get().status == "confirmed"
    assert Stock.objects.get(variant=variant).on_hand == 4
    assert sum(isinstance(r, services.PayResult) and r.status_code == 201 for r in results) >= 1
    assert PaymentAttempt.objects.filter(status="succeeded").count() == 1


def test_a_coupons_total_limit_holds_under_concurrent_checkouts(make_variant):
    coupon = CouponFactory(code="FIRST3", max_uses=3)
    variant = make_variant(on_hand=100)
    people = buyers(8)
    for person in people:
        fill_cart(person, (variant, 1))

    results = run_concurrently(
        8,
        lambda i: services.checkout_start(
            user=people[i], idempotency_key=f"start-{i}", shipping_method="standard", coupon="FIRST3"
        ),
    )

    started = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, services.CouponInvalid)]
    assert (len(started), len(refused)) == (3, 5), results
    assert all(checkout.discount == Decimal("1.00") for checkout, _ in started)
    assert {r.reason for r in refused} == {"exhausted"}
    assert Coupon.objects.get(pk=coupon.pk).uses == 3
    assert CouponRedemption.objects.filter(status="reserved").count() == 3
    # the refused starts hold nothing: only the three open checkouts have stock reserved
    assert Checkout.objects.count() == 3
    assert Stock.objects.get(variant=variant).reserved == 3


def test_one_buyer_starting_on_two_devices_at_once_never_uses_a_coupon_twice_nor_leaks_stock(buyer, make_variant):
    CouponFactory(code="ONCE", max_uses_per_customer=1)
    variant = make_variant(on_hand=10)
    fill_cart(buyer, (variant, 1))

    results = run_concurrently(
        2,
        lambda i: services.checkout_start(
            user=buyer, idempotency_key=f"device-{i}", shipping_method="standard", coupon="ONCE"
        ),
    )

    # One start wins, or (when each abandons the other mid-start) neither: never two uses, and
    # nothing is left held by a start that lost.
    assert all(isinstance(r, tuple | services.CouponInvalid | services.CheckoutConflict) for r in results), results
    open_checkouts = Checkout.objects.filter(status="reserved").count()
    assert open_checkouts <= 1
    assert CouponRedemption.objects.filter(status__in=["reserved", "used"]).count() == open_checkouts
    assert Stock.objects.get(variant=variant).reserved == open_checkouts


def test_the_last_units_go_to_as_many_buyers_as_there_are_units_and_each_pays_once(make_variant):
    variant = make_variant(on_hand=3)
    people = buyers(6)
    for person in people:
        fill_cart(person, (variant, 1))

    def checkout_and_pay(i: int):
        checkout, _ = services.checkout_start(user=people[i], idempotency_key=f"s-{i}", shipping_method="standard")
        return services.checkout_pay(
            user=people[i], checkout_id=checkout.pk, idempotency_key=f"p-{i}", token="tok_visa"
        )

    results = run_concurrently(6, checkout_and_pay)

    paid = [r for r in results if isinstance(r, services.PayResult) and r.status_code == 201]
    sold_out = [r for r in results if isinstance(r, services.OutOfStock)]
    assert (len(paid), len(sold_out)) == (3, 3), results
    assert charges_made() == 3
    stock = Stock.objects.get(variant=variant)
    assert (stock.on_hand, stock.reserved) == (0, 0)
