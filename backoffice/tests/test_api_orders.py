"""The seller API for sub-orders and returns (API.md, "Sellers"): a seller sees and moves only its
own; another seller's sub-order or return is 404; moves the state machine refuses are 409."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import AddressFactory, UserFactory
from catalog.tests.factories import ProductFactory, VariantFactory
from inventory.models import Stock
from inventory.services import MAX_ON_HAND
from inventory.tests.factories import StockFactory
from orders import services as order_services
from orders.models import Order, OrderRefund, SubOrder
from orders.tests.factories import order_through_checkout
from sellers.models import LedgerEntry
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sandbox(settings):
    settings.PAYMENT_GATEWAYS = ["sandbox"]
    settings.RATE_LIMITS_ENABLED = False


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def variant_of(seller, *, price="10.00", on_hand=10):
    product = ProductFactory(seller=seller, price=Decimal(price), variants=0)
    variant = VariantFactory(product=product, price=Decimal(price))
    StockFactory(variant=variant, on_hand=on_hand)
    return variant


@pytest.fixture
def seller():
    return SellerFactory()


@pytest.fixture
def order(seller):
    buyer = UserFactory()
    AddressFactory(user=buyer, is_default=True)
    return order_through_checkout(
        buyer=buyer, items=[(variant_of(seller), 2), (variant_of(SellerFactory(), price="5.00"), 1)]
    )


def own_sub_order(order, seller) -> SubOrder:
    return order.sub_orders.get(seller=seller)


def delivered_sub_order(order, seller) -> SubOrder:
    """The seller's sub-order, shipped and delivered: returns may be requested."""
    sub_order = own_sub_order(order, seller)
    order_services.sub_order_ship(sub_order=sub_order, carrier="DHL", tracking_number="1")
    order_services.sub_order_deliver(sub_order=sub_order)
    return sub_order


def test_a_seller_lists_only_its_own_sub_orders(seller, order):
    response = client_for(seller.user).get("/api/v1/seller/sub-orders/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [result["id"] for result in results] == [own_sub_order(order, seller).pk]
    assert results[0]["order_number"] == order.number
    assert results[0]["status"] == "confirmed"
    assert results[0]["address"]["city"]
    assert [line["quantity"] for line in results[0]["lines"]] == [2]


def test_ship_then_deliver(seller, order):
    api = client_for(seller.user)
    sub_order = own_sub_order(order, seller)

    shipped = api.post(
        f"/api/v1/seller/sub-orders/{sub_order.pk}/ship/",
        {"carrier": "DHL", "tracking_number": "JD0001"},
        format="json",
    )
    delivered = api.post(f"/api/v1/seller/sub-orders/{sub_order.pk}/deliver/")

    assert shipped.status_code == 200
    assert (shipped.json()["status"], shipped.json()["carrier"], shipped.json()["tracking_number"]) == (
        "shipped",
        "DHL",
        "JD0001",
    )
    assert delivered.status_code == 200
    assert delivered.json()["status"] == "delivered"
    order.refresh_from_db()
    assert order.status == "partially_shipped"  # the other seller's part has not shipped


def test_deliver_before_ship_is_409_and_ship_needs_a_carrier(seller, order):
    api = client_for(seller.user)
    sub_order = own_sub_order(order, seller)

    too_early = api.post(f"/api/v1/seller/sub-orders/{sub_order.pk}/deliver/")
    no_carrier = api.post(f"/api/v1/seller/sub-orders/{sub_order.pk}/ship/", {"tracking_number": "X"}, format="json")

    assert too_early.status_code == 409
    assert too_early.json()["error"] == "conflict"
    assert no_carrier.status_code == 400
    assert "carrier" in no_carrier.json()["fields"]


def test_another_sellers_sub_order_and_return_are_404(seller, order):
    stranger = client_for(SellerFactory().user)
    sub_order = delivered_sub_order(order, seller)
    the_return = order_services.return_request(order=order, lines=[{"sku": sub_order.lines.get().sku, "quantity": 1}])

    assert stranger.post(f"/api/v1/seller/sub-orders/{sub_order.pk}/deliver/").status_code == 404
    assert (
        stranger.post(
            f"/api/v1/seller/sub-orders/{sub_order.pk}/ship/", {"carrier": "X", "tracking_number": "Y"}, format="json"
        ).status_code
        == 404
    )
    assert stranger.get("/api/v1/seller/sub-orders/").json()["count"] == 0
    assert stranger.get("/api/v1/seller/returns/").json()["count"] == 0
    assert stranger.post(f"/api/v1/seller/returns/{the_return.pk}/approve/").status_code == 404
    assert stranger.post(f"/api/v1/seller/returns/{the_return.pk}/reject/", {"reason": "no"}).status_code == 404


def test_buyers_are_refused_the_seller_api(order):
    assert client_for(order.buyer).get("/api/v1/seller/sub-orders/").status_code == 403


def test_approving_a_return_refunds_its_stored_amounts(seller, order):
    api = client_for(seller.user)
    sub_order = delivered_sub_order(order, seller)
    line = sub_order.lines.get()
    the_return = order_services.return_request(order=order, lines=[{"sku": line.sku, "quantity": 1}], reason="too big")

    listed = api.get("/api/v1/seller/returns/").json()["results"]
    approved = api.post(f"/api/v1/seller/returns/{the_return.pk}/approve/")

    assert [r["id"] for r in listed] == [the_return.pk]
    assert approved.status_code == 200
    assert approved.json()["status"] == "refunded"
    refund = OrderRefund.objects.get(return_request=the_return)
    assert refund.amount == line.total / 2  # one of two units: half the line's stored total
    assert refund.status == "succeeded"
    assert Order.objects.get(pk=order.pk).refunded_total == refund.amount
    assert LedgerEntry.objects.filter(seller=seller, kind="refund").count() == 1
    assert api.post(f"/api/v1/seller/returns/{the_return.pk}/approve/").status_code == 409


def test_approving_a_return_with_restock_puts_the_units_back_on_hand(seller, order):
    api = client_for(seller.user)
    sub_order = delivered_sub_order(order, seller)
    line = sub_order.lines.get()
    on_hand = Stock.objects.get(sku=line.sku).on_hand
    the_return = order_services.return_request(order=order, lines=[{"sku": line.sku, "quantity": 2}])
    url = f"/api/v1/seller/returns/{the_return.pk}/approve/"

    for bad, field in (({"restock": "maybe"}, "restock"), ({"restok": True}, "restok")):
        refused = api.post(url, bad, format="json")
        assert refused.status_code == 400
        assert refused.json()["error"] == "invalid"
        assert field in refused.json()["fields"]
    assert Stock.objects.get(sku=line.sku).on_hand == on_hand  # a refused request changed nothing
    Stock.objects.filter(sku=line.sku).update(on_hand=MAX_ON_HAND - 1)  # no room for two more units
    too_many = api.post(url, {"restock": True}, format="json")
    assert too_many.status_code == 400
    assert "restock" in too_many.json()["fields"]
    assert api.get("/api/v1/seller/returns/").json()["results"][0]["status"] == "requested"  # nothing approved
    Stock.objects.filter(sku=line.sku).update(on_hand=on_hand)

    approved = api.post(url, {"restock": True}, format="json")

    assert approved.status_code == 200
    assert approved.json()["status"] == "refunded"
    assert Stock.objects.get(sku=line.sku).on_hand == on_hand + 2


def test_rejecting_a_return_needs_a_reason(seller, order):
    api = client_for(seller.user)
    sub_order = delivered_sub_order(order, seller)
    the_return = order_services.return_request(order=order, lines=[{"sku": sub_order.lines.get().sku, "quantity": 2}])

    no_reason = api.post(f"/api/v1/seller/returns/{the_return.pk}/reject/", {}, format="json")
    rejected = api.post(f"/api/v1/seller/returns/{the_return.pk}/reject/", {"reason": "Worn"}, format="json")

    assert no_reason.status_code == 400
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["rejection_reason"]) == ("rejected", "Worn")
    assert OrderRefund.objects.count() == 0


def test_a_seller_cancels_its_part_before_shipping(seller, order):
    api = client_for(seller.user)
    sub_order = own_sub_order(order, seller)

    response = api.post(f"/api/v1/seller/sub-orders/{sub_order.pk}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert Order.objects.get(pk=order.pk).status == "partially_cancelled"
