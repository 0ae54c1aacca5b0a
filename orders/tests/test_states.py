"""The state machines of DESIGN.md: every move outside the tables is refused (409 over the API),
and the order's status is derived from its sub-orders."""

from __future__ import annotations

import itertools

import pytest

from orders import services, states
from orders.models import Order, OrderEvent, Return, SubOrder
from orders.states import InvalidTransition, order_status_for
from orders.tests.factories import order_for
from shop.core.models import OutboxEvent

S = SubOrder.Status
R = Return.Status


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (current, target)
        for current, target in itertools.product(S.values, S.values)
        if target not in states.SUB_ORDER_TRANSITIONS[current]
    ],
)
def test_every_sub_order_move_outside_the_table_is_refused(current, target):
    with pytest.raises(InvalidTransition):
        states.check_sub_order(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (current, target)
        for current, target in itertools.product(R.values, R.values)
        if target not in states.RETURN_TRANSITIONS[current]
    ],
)
def test_every_return_move_outside_the_table_is_refused(current, target):
    with pytest.raises(InvalidTransition):
        states.check_return(current, target)


def test_the_tables_allow_exactly_the_designed_moves():
    allowed = {(a, b) for a, targets in states.SUB_ORDER_TRANSITIONS.items() for b in targets}
    assert allowed == {
        ("pending_payment", "confirmed"),
        ("pending_payment", "failed"),
        ("confirmed", "processing"),
        ("confirmed", "shipped"),
        ("confirmed", "cancelled"),
        ("processing", "shipped"),
        ("processing", "cancelled"),
        ("shipped", "delivered"),
    }
    returns = {(a, b) for a, targets in states.RETURN_TRANSITIONS.items() for b in targets}
    assert returns == {("requested", "approved"), ("requested", "rejected"), ("approved", "refunded")}


@pytest.mark.parametrize(
    ("sub_orders", "expected"),
    [
        (["pending_payment", "pending_payment"], "pending_payment"),
        (["failed", "failed"], "failed"),
        (["confirmed", "confirmed"], "confirmed"),
        (["confirmed", "processing"], "confirmed"),
        (["shipped", "confirmed"], "partially_shipped"),
        (["delivered", "processing"], "partially_shipped"),
        (["shipped", "shipped"], "shipped"),
        (["delivered", "shipped"], "shipped"),
        (["delivered", "delivered"], "delivered"),
        (["cancelled", "confirmed"], "partially_cancelled"),
        (["cancelled", "shipped"], "shipped"),
        (["cancelled", "delivered", "shipped"], "shipped"),
        (["cancelled", "delivered"], "delivered"),
        (["cancelled", "cancelled"], "cancelled"),
    ],
)
def test_the_order_status_is_derived_from_its_sub_orders(sub_orders, expected):
    assert order_status_for(sub_orders) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "move"),
    [
        ("confirmed", "deliver"),
        ("processing", "process"),
        ("shipped", "process"),
        ("shipped", "ship"),
        ("shipped", "cancel"),
        ("delivered", "ship"),
        ("delivered", "deliver"),
        ("delivered", "cancel"),
    ],
)
def test_invalid_fulfilment_moves_raise_and_change_nothing(make_variant, buyer, status, move):
    order = order_for(buyer=buyer, variant=make_variant(), status=status)
    sub_order = order.sub_orders.get()
    events_before = OrderEvent.objects.count()
    call = {
        "process": lambda: services.sub_order_process(sub_order=sub_order),
        "ship": lambda: services.sub_order_ship(sub_order=sub_order, carrier="DHL", tracking_number="1"),
        "deliver": lambda: services.sub_order_deliver(sub_order=sub_order),
        "cancel": lambda: services.sub_order_cancel(sub_order=sub_order),
    }[move]

    with pytest.raises(InvalidTransition):
        call()

    assert SubOrder.objects.get(pk=sub_order.pk).status == status
    assert OrderEvent.objects.count() == events_before


@pytest.mark.django_db
def test_every_move_is_recorded_and_published(make_variant, buyer, django_user_model):
    order = order_for(buyer=buyer, variant=make_variant())
    sub_order = order.sub_orders.get()
    seller_user = sub_order.seller.user

    services.sub_order_process(sub_order=sub_order, actor=seller_user)
    services.sub_order_ship(sub_order=sub_order, carrier="UPS", tracking_number="1Z", actor=seller_user)
    services.sub_order_deliver(sub_order=sub_order, actor=seller_user)

    moves = list(
        OrderEvent.objects.filter(sub_order=sub_order, actor=seller_user).values_list("from_status", "to_status")
    )
    assert moves == [("confirmed", "processing"), ("processing", "shipped"), ("shipped", "delivered")]
    published = [
        (event.payload["from"], event.payload["to"])
        for event in OutboxEvent.objects.filter(name="sub_order.status_changed").order_by("created_at")
    ]
    assert published == moves
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert list(
        OrderEvent.objects.filter(order=order, sub_order=None).values_list("to_status", flat=True).order_by("id")
    )[-2:] == ["shipped", "delivered"]
