"""The queries other apps rely on: verified purchases and fulfilment speed (reviews), a buyer's and
a seller's views, the timeline."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from orders import selectors
from orders.models import SubOrder
from orders.tests.factories import delivered_order_for, order_for

pytestmark = pytest.mark.django_db


def test_has_received_product_only_after_delivery_and_only_for_that_buyer(buyer, make_variant):
    delivered, shipped = make_variant(), make_variant()
    delivered_order_for(buyer=buyer, variant=delivered)
    order_for(buyer=buyer, variant=shipped, status=SubOrder.Status.SHIPPED)

    assert selectors.has_received_product(user_id=buyer.pk, product_id=delivered.product_id) is True
    assert selectors.has_received_product(user_id=buyer.pk, product_id=shipped.product_id) is False
    assert selectors.has_received_product(user_id=UserFactory().pk, product_id=delivered.product_id) is False


def test_seller_fulfilment_days_is_the_average_from_confirmation_to_shipping(buyer, make_variant):
    variant = make_variant()
    seller_id = variant.product.seller_id
    assert selectors.seller_fulfilment_days(seller_id=seller_id) is None
    order_for(buyer=buyer, variant=variant, status=SubOrder.Status.CONFIRMED)  # not shipped: not counted

    delivered_order_for(buyer=buyer, variant=variant, days_to_ship=1)
    order_for(buyer=buyer, variant=variant, status=SubOrder.Status.SHIPPED, days_to_ship=2)

    assert selectors.seller_fulfilment_days(seller_id=seller_id) == Decimal("1.50")


def test_buyers_see_their_own_orders_and_sellers_their_own_sub_orders(buyer, make_variant):
    mine = order_for(buyer=buyer, variant=make_variant())
    theirs = order_for(buyer=UserFactory(), variant=make_variant())

    assert list(selectors.orders_for_buyer(user=buyer)) == [mine]
    assert selectors.order_for_buyer(user=buyer, number=mine.number.lower()) == mine
    assert selectors.order_for_buyer(user=buyer, number=theirs.number) is None
    seller = mine.sub_orders.get().seller
    assert list(selectors.sub_orders_for_seller(seller=seller)) == list(mine.sub_orders.all())
    assert selectors.sub_order_for_seller(seller=seller, sub_order_id=theirs.sub_orders.get().pk) is None


def test_the_timeline_lists_every_transition_in_order(buyer, make_variant):
    order = delivered_order_for(buyer=buyer, variant=make_variant())

    timeline = [(event.from_status, event.to_status) for event in selectors.order_timeline(order=order)]

    assert timeline == [("pending_payment", "confirmed"), ("confirmed", "shipped"), ("shipped", "delivered")]
