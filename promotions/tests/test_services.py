from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from promotions import selectors, services
from promotions.models import Coupon, CouponRedemption
from promotions.services import CouponInvalid, coupon_consume, coupon_quote, coupon_redeem, coupon_release
from promotions.tests.factories import CouponFactory
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db

D = Decimal


def quote(code, subtotals, *, user_id=None, currency="EUR", now=None):
    return coupon_quote(code=code, user_id=user_id, subtotal_by_seller=subtotals, currency=currency, now=now)


def refused(code, subtotals, **kwargs) -> CouponInvalid:
    with pytest.raises(CouponInvalid) as info:
        quote(code, subtotals, **kwargs)
    return info.value


# --- kinds ------------------------------------------------------------------------------------------


def test_percentage_is_rounded_half_up_and_split_over_sellers_exactly():
    CouponFactory(code="TEN", kind="percent", value=D("10.00"))

    result = quote("ten", {1: D("10.05"), 2: D("20.00")})

    # 10% of 30.05 is 3.005 -> 3.01; the parts add up to it
    assert result.discount_total == D("3.01")
    assert sum(result.discount_by_seller.values()) == D("3.01")
    assert result.discount_by_seller == {1: D("1.00"), 2: D("2.01")}
    assert result.free_shipping_sellers == frozenset()
    assert result.code == "TEN"


def test_fixed_amount_on_platform_coupon_splits_in_proportion_with_remainder_to_largest():
    CouponFactory(code="TENOFF", kind="fixed", value=D("10.00"))

    result = quote("TENOFF", {1: D("30.00"), 2: D("30.00"), 3: D("40.00"), 4: D("0.00")})

    assert result.discount_by_seller == {1: D("3.00"), 2: D("3.00"), 3: D("4.00"), 4: D("0.00")}
    uneven = quote("TENOFF", {1: D("20.00"), 2: D("20.00"), 3: D("20.00")})
    assert sum(uneven.discount_by_seller.values()) == D("10.00")
    assert sorted(uneven.discount_by_seller.values()) == [D("3.33"), D("3.33"), D("3.34")]


def test_fixed_amount_never_exceeds_the_subtotal():
    CouponFactory(code="BIG", kind="fixed", value=D("50.00"))

    result = quote("BIG", {1: D("12.34"), 2: D("7.66")})

    assert result.discount_by_seller == {1: D("12.34"), 2: D("7.66")}
    assert result.discount_total == D("20.00")


def test_hundred_percent_takes_exactly_the_subtotal():
    CouponFactory(code="ALL", kind="percent", value=D("100"))

    assert quote("ALL", {1: D("9.99"), 2: D("0.01")}).discount_by_seller == {1: D("9.99"), 2: D("0.01")}


def test_free_shipping_names_the_sellers_and_discounts_nothing():
    CouponFactory(code="SHIP", kind="free_shipping", value=D("0"))

    result = quote("SHIP", {1: D("10.00"), 2: D("5.00"), 3: D("0.00")})

    assert result.free_shipping_sellers == frozenset({1, 2})
    assert result.discount_total == D("0.00")


# --- conditions ------------------------------------------------------------------------------------


def test_minimum_subtotal_is_checked_and_explained():
    CouponFactory(code="MIN50", kind="fixed", value=D("5.00"), min_subtotal=D("50.00"))

    error = refused("MIN50", {1: D("30.00"), 2: D("19.99")})

    assert error.reason == "min_subtotal"
    assert str(error) == "This coupon needs a subtotal of at least 50.00 EUR."
    assert quote("MIN50", {1: D("30.00"), 2: D("20.00")}).discount_total == D("5.00")


def test_validity_dates():
    now = timezone.now()
    CouponFactory(code="LATER", starts_at=now + timedelta(hours=1))
    CouponFactory(code="OVER", starts_at=now - timedelta(days=2), ends_at=now - timedelta(seconds=1))
    CouponFactory(code="OFF", active=False)

    assert refused("LATER", {1: D("10")}).reason == "not_started"
    assert refused("OVER", {1: D("10")}).reason == "expired"
    assert refused("OFF", {1: D("10")}).reason == "inactive"
    assert quote("LATER", {1: D("10")}, now=now + timedelta(hours=2)).discount_total == D("1.00")
    assert quote("OVER", {1: D("10")}, now=now - timedelta(days=1)).discount_total == D("1.00")


def test_unknown_and_blank_codes():
    assert refused("NOPE", {1: D("10")}).reason == "unknown"
    assert refused("   ", {1: D("10")}).reason == "unknown"
    assert refused("X" * 500, {1: D("10")}).reason == "unknown"


def test_seller_coupon_discounts_only_that_sellers_lines():
    seller, other = SellerFactory(), SellerFactory()
    CouponFactory(code="SHOP20", seller=seller, kind="percent", value=D("20"), min_subtotal=D("10.00"))

    result = quote("SHOP20", {seller.pk: D("25.00"), other.pk: D("100.00")})

    assert result.discount_by_seller == {seller.pk: D("5.00"), other.pk: D("0.00")}
    # the minimum counts the seller's lines only
    error = refused("SHOP20", {seller.pk: D("9.00"), other.pk: D("100.00")})
    assert error.reason == "min_subtotal"
    assert seller.store_name in str(error)
    error = refused("SHOP20", {other.pk: D("100.00")})
    assert error.reason == "not_applicable"
    assert seller.store_name in str(error)


def test_seller_free_shipping_covers_that_seller_only():
    seller, other = SellerFactory(), SellerFactory()
    CouponFactory(code="SHIPME", seller=seller, kind="free_shipping", value=D("0"))

    result = quote("SHIPME", {seller.pk: D("5.00"), other.pk: D("5.00")})

    assert result.free_shipping_sellers == frozenset({seller.pk})


def test_other_currency_is_not_applicable():
    CouponFactory(code="EURO", currency="EUR")

    assert refused("EURO", {1: D("10")}, currency="USD").reason == "not_applicable"


@pytest.mark.parametrize(
    ("subtotals", "currency", "error"),
    [
        ({1: 10.5}, "EUR", TypeError),
        ({1: D("-1")}, "EUR", ValueError),
        ({1: "ten"}, "EUR", ValueError),
        ({"1": D("10")}, "EUR", TypeError),
        ({1: D("10")}, "euro", ValueError),
    ],
)
def test_bad_input_is_refused(subtotals, currency, error):
    CouponFactory(code="OK")

    with pytest.raises(error):
        quote("OK", subtotals, currency=currency)


def test_database_refuses_nonsense_coupons():
    for fields in [
        {"kind": "percent", "value": D("101")},
        {"kind": "percent", "value": D("0")},
        {"kind": "fixed", "value": D("-1")},
        {"kind": "free_shipping", "value": D("1")},
        {"code": "lower"},
        {"max_uses": 0},
        {"min_subtotal": D("-5")},
        {"ends_at": timezone.now() - timedelta(days=3)},
    ]:
        with pytest.raises(IntegrityError), transaction.atomic():
            CouponFactory(**fields)


# --- reserving, consuming, releasing --------------------------------------------------------------


def redeem(code, reference, user, subtotals=None):
    return coupon_redeem(
        code=code,
        user_id=user.pk if user else None,
        reference=reference,
        subtotal_by_seller=subtotals or {1: D("40.00")},
        currency="EUR",
    )


def test_redeem_reserves_one_use_and_is_idempotent_per_reference():
    coupon = CouponFactory(code="ONCE", max_uses=3)
    user = UserFactory()

    first = redeem("once", "checkout:1", user)
    again = redeem("ONCE", "checkout:1", user, subtotals={1: D("999.00")})

    assert again == first
    assert first.discount_by_seller == {1: D("4.00")}
    coupon.refresh_from_db()
    assert coupon.uses == 1 == selectors.coupon_uses(coupon_id=coupon.pk)
    assert CouponRedemption.objects.get().status == "reserved"


def test_total_limit_reached_is_exhausted_until_a_use_is_released():
    coupon = CouponFactory(code="TWO", max_uses=2)
    buyers = UserFactory.create_batch(3)

    redeem("TWO", "checkout:1", buyers[0])
    redeem("TWO", "checkout:2", buyers[1])
    with pytest.raises(CouponInvalid) as info:
        redeem("TWO", "checkout:3", buyers[2])
    assert info.value.reason == "exhausted"
    assert refused("TWO", {1: D("10")}).reason == "exhausted"

    coupon_release(reference="checkout:1")
    coupon_release(reference="checkout:1")  # idempotent

    redeem("TWO", "checkout:3", buyers[2])
    coupon.refresh_from_db()
    assert coupon.uses == 2 == selectors.coupon_uses(coupon_id=coupon.pk)


def test_per_customer_limit_counts_reserved_and_used():
    CouponFactory(code="MINE", max_uses_per_customer=1)
    buyer, other = UserFactory(), UserFactory()

    redeem("MINE", "checkout:1", buyer)
    coupon_consume(reference="checkout:1")

    with pytest.raises(CouponInvalid) as info:
        redeem("MINE", "checkout:2", buyer)
    assert info.value.reason == "already_used"
    assert refused("MINE", {1: D("10")}, user_id=buyer.pk).reason == "already_used"
    redeem("MINE", "checkout:3", other)
    with pytest.raises(CouponInvalid) as info:
        redeem("MINE", "checkout:4", None)
    assert info.value.reason == "not_applicable"


def test_a_quote_ignores_the_buyers_own_reserved_use_of_a_checkout_being_replaced():
    CouponFactory(code="LASTONE", max_uses=1, max_uses_per_customer=1)
    buyer, other = UserFactory(), UserFactory()
    redeem("LASTONE", "checkout:old", buyer)

    assert quote("LASTONE", {1: D("10")}, user_id=buyer.pk).discount_total == D("1.00")
    assert refused("LASTONE", {1: D("10")}, user_id=other.pk).reason == "exhausted"
    with pytest.raises(CouponInvalid) as info:  # redeeming is exact: the old checkout must let go first
        redeem("LASTONE", "checkout:new", buyer)
    assert info.value.reason == "exhausted"
    coupon_release(reference="checkout:old")
    assert redeem("LASTONE", "checkout:new", buyer).discount_total == D("4.00")
    coupon_consume(reference="checkout:new")
    assert refused("LASTONE", {1: D("10")}, user_id=buyer.pk).reason == "exhausted"


def test_consume_makes_the_use_permanent_and_release_then_leaves_it():
    coupon = CouponFactory(code="PAID")
    user = UserFactory()
    redeem("PAID", "checkout:1", user)

    coupon_consume(reference="checkout:1")
    coupon_consume(reference="checkout:1")
    coupon_release(reference="checkout:1")  # a paid order keeps its use

    redemption = CouponRedemption.objects.get()
    assert redemption.status == "used"
    coupon.refresh_from_db()
    assert coupon.uses == 1


def test_release_and_consume_without_a_coupon_do_nothing():
    coupon_release(reference="checkout:none")
    coupon_consume(reference="checkout:none")

    assert not CouponRedemption.objects.exists()


def test_consume_after_release_does_not_take_the_use_back():
    coupon = CouponFactory(code="LAPSED")
    redeem("LAPSED", "checkout:1", UserFactory())
    coupon_release(reference="checkout:1")

    coupon_consume(reference="checkout:1")

    assert CouponRedemption.objects.get().status == "released"
    coupon.refresh_from_db()
    assert coupon.uses == 0


def test_redeeming_another_code_swaps_the_checkouts_coupon():
    first, second = CouponFactory(code="FIRST"), CouponFactory(code="SECOND", kind="fixed", value=D("7.00"))
    user = UserFactory()
    redeem("FIRST", "checkout:1", user)

    result = redeem("SECOND", "checkout:1", user)

    assert result.coupon_id == second.pk
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.uses, second.uses) == (0, 1)
    assert selectors.coupon_redemption_for(reference="checkout:1").coupon == second


def test_a_refused_swap_keeps_the_first_coupon():
    first = CouponFactory(code="KEEP")
    CouponFactory(code="TOOHIGH", min_subtotal=D("500.00"))
    user = UserFactory()
    redeem("KEEP", "checkout:1", user)

    with pytest.raises(CouponInvalid):
        redeem("TOOHIGH", "checkout:1", user)

    assert selectors.coupon_redemption_for(reference="checkout:1").coupon == first


def test_redeem_refuses_a_blank_reference():
    CouponFactory(code="REF")

    with pytest.raises(ValueError, match="reference"):
        redeem("REF", "  ", UserFactory())


def test_a_retry_after_expiry_still_returns_the_first_quote():
    coupon = CouponFactory(code="SOON", ends_at=timezone.now() + timedelta(hours=1))
    user = UserFactory()
    first = redeem("SOON", "checkout:1", user)
    Coupon.objects.filter(pk=coupon.pk).update(ends_at=timezone.now() - timedelta(seconds=1))

    assert redeem("SOON", "checkout:1", user) == first


# --- selectors and demo data ---------------------------------------------------------------------------


def test_coupon_get_normalizes_the_code():
    coupon = CouponFactory(code="HELLO")

    assert selectors.coupon_get(code=" hello ") == coupon
    assert selectors.coupon_get(code="") is None
    assert selectors.coupon_get(code="other") is None


def test_demo_coupons_are_created_once_and_usable():
    services.demo_coupons_ensure()
    services.demo_coupons_ensure()

    assert sorted(Coupon.objects.values_list("code", flat=True)) == ["FREESHIP", "SAVE5", "WELCOME10"]
    assert quote("welcome10", {1: D("20.00")}).discount_total == D("2.00")
    assert quote("SAVE5", {1: D("25.00")}).discount_total == D("5.00")
    assert quote("FREESHIP", {1: D("30.00")}).free_shipping_sellers == frozenset({1})
    assert refused("FREESHIP", {1: D("29.99")}).reason == "min_subtotal"
