from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from promotions.models import Coupon
from promotions.services import coupon_redeem
from promotions.tests.factories import CouponFactory
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db


def coupon_post(**overrides):
    starts = timezone.localtime() - timedelta(hours=1)
    data = {
        "code": "spring 10",
        "description": "",
        "kind": "percent",
        "value": "10",
        "currency": "EUR",
        "min_subtotal": "0",
        "starts_at_0": starts.strftime("%Y-%m-%d"),
        "starts_at_1": starts.strftime("%H:%M:%S"),
        "ends_at_0": "",
        "ends_at_1": "",
        "max_uses": "",
        "max_uses_per_customer": "",
        "active": "on",
    }
    data.update(overrides)
    return data


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_staff_create_a_coupon_with_its_code_in_capitals(staff_client):
    response = staff_client.post(reverse("admin:promotions_coupon_add"), coupon_post(code=" spring10 "))

    assert response.status_code == 302, response.context["adminform"].form.errors
    coupon = Coupon.objects.get()
    assert (coupon.code, coupon.seller) == ("SPRING10", None)


def test_staff_form_puts_each_rule_next_to_its_field(staff_client):
    CouponFactory(code="TAKEN")
    now = timezone.localtime()
    response = staff_client.post(
        reverse("admin:promotions_coupon_add"),
        coupon_post(
            code="taken",
            value="150",
            max_uses="0",
            min_subtotal="-1",
            ends_at_0=(now - timedelta(days=2)).strftime("%Y-%m-%d"),
            ends_at_1="00:00:00",
        ),
    )

    errors = response.context["adminform"].form.errors
    assert set(errors) >= {"code", "value", "max_uses", "min_subtotal", "ends_at"}
    assert "at most 100" in errors["value"][0]
    assert Coupon.objects.count() == 1


def test_a_used_coupon_cannot_be_deleted_and_its_terms_are_fixed(staff_client):
    coupon = CouponFactory(code="USED")
    coupon_redeem(
        code="USED", user_id=UserFactory().pk, reference="c:1", subtotal_by_seller={1: Decimal(10)}, currency="EUR"
    )

    response = staff_client.get(reverse("admin:promotions_coupon_change", args=[coupon.pk]))
    assert response.status_code == 200
    assert "code" not in response.context["adminform"].form.fields
    delete = staff_client.post(reverse("admin:promotions_coupon_delete", args=[coupon.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert staff_client.get(reverse("admin:promotions_couponredemption_changelist")).status_code == 200


def test_a_seller_creates_its_own_coupon_and_sees_only_its_own(client):
    seller, other = SellerFactory(), SellerFactory()
    theirs = CouponFactory(code="THEIRS", seller=other)
    platform = CouponFactory(code="PLATFORM")
    client.force_login(seller.user)

    response = client.post(reverse("seller_admin:promotions_coupon_add"), coupon_post(code="mine5"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    mine = Coupon.objects.get(code="MINE5")
    assert mine.seller == seller
    listing = client.get(reverse("seller_admin:promotions_coupon_changelist"))
    assert list(listing.context["cl"].queryset) == [mine]
    for coupon in (theirs, platform):
        assert client.get(reverse("seller_admin:promotions_coupon_change", args=[coupon.pk])).status_code == 404


def test_a_seller_cannot_move_its_coupon_to_another_seller(client):
    seller, other = SellerFactory(), SellerFactory()
    mine = CouponFactory(code="MINE", seller=seller)
    client.force_login(seller.user)

    response = client.post(
        reverse("seller_admin:promotions_coupon_change", args=[mine.pk]), coupon_post(code="MINE", seller=other.pk)
    )

    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.seller == seller
    delete = client.post(reverse("seller_admin:promotions_coupon_delete", args=[mine.pk]), {"post": "yes"})
    assert delete.status_code == 403
