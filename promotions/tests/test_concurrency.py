"""Concurrency proofs: real concurrent checkouts on PostgreSQL, each thread on its own connection."""

from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from promotions import selectors
from promotions.models import CouponRedemption
from promotions.services import CouponInvalid, CouponQuote, coupon_redeem, coupon_release
from promotions.tests.conftest import run_concurrently
from promotions.tests.factories import CouponFactory

pytestmark = pytest.mark.django_db(transaction=True)


def redeem(code: str, user_id: int, reference: str):
    return coupon_redeem(
        code=code, user_id=user_id, reference=reference, subtotal_by_seller={1: Decimal("50.00")}, currency="EUR"
    )


def test_twenty_checkouts_racing_for_five_uses_get_exactly_five():
    coupon = CouponFactory(code="FIVE", max_uses=5)
    buyers = [user.pk for user in UserFactory.create_batch(20)]

    results = run_concurrently(20, lambda i: redeem("FIVE", buyers[i], f"checkout:{i}"))

    won = [r for r in results if isinstance(r, CouponQuote)]
    lost = [r for r in results if isinstance(r, CouponInvalid)]
    assert (len(won), len(lost)) == (5, 15), [r for r in results if not isinstance(r, CouponQuote | CouponInvalid)]
    assert {r.reason for r in lost} == {"exhausted"}
    coupon.refresh_from_db()
    assert coupon.uses == 5 == selectors.coupon_uses(coupon_id=coupon.pk)


def test_one_customer_racing_ten_checkouts_gets_one_use():
    coupon = CouponFactory(code="ONEEACH", max_uses_per_customer=1)
    buyer = UserFactory()

    results = run_concurrently(10, lambda i: redeem("ONEEACH", buyer.pk, f"checkout:{i}"))

    assert sum(isinstance(r, CouponQuote) for r in results) == 1
    assert {r.reason for r in results if not isinstance(r, CouponQuote)} == {"already_used"}
    assert CouponRedemption.objects.filter(coupon=coupon, status="reserved").count() == 1


def test_released_uses_are_taken_by_the_next_checkouts():
    coupon = CouponFactory(code="CYCLE", max_uses=3)
    buyers = [user.pk for user in UserFactory.create_batch(12)]

    def checkout_then_abandon(i: int):
        try:
            redeem("CYCLE", buyers[i], f"checkout:{i}")
        except CouponInvalid as exc:
            return exc.reason
        coupon_release(reference=f"checkout:{i}")
        return "released"

    results = run_concurrently(12, checkout_then_abandon)

    assert "released" in results
    assert set(results) <= {"released", "exhausted"}
    coupon.refresh_from_db()
    assert coupon.uses == 0 == selectors.coupon_uses(coupon_id=coupon.pk)
    # every use is free again: three new checkouts get one each
    for i in range(3):
        redeem("CYCLE", buyers[i], f"again:{i}")
    coupon.refresh_from_db()
    assert coupon.uses == 3


def test_a_double_submitted_checkout_reserves_one_use():
    coupon = CouponFactory(code="DOUBLE", max_uses=10)
    buyer = UserFactory()

    results = run_concurrently(6, lambda i: redeem("DOUBLE", buyer.pk, "checkout:same"))

    assert all(isinstance(r, CouponQuote) for r in results), results
    assert len(set(map(repr, results))) == 1
    coupon.refresh_from_db()
    assert coupon.uses == 1
