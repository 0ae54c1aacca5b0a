"""Orders in both admins: a seller sees and moves only its own sub-orders and returns on /seller/
(another seller's are a 404 through every URL, the buttons' included); every move goes through
orders.services and lands on the timeline; staff see everything in /admin/."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.tests.factories import UserFactory
from inventory.models import Stock
from orders import services
from orders.models import OrderEvent, Return, SubOrder
from orders.tests.factories import order_through_checkout
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller():
    return SellerFactory(store_name="Own Store")


@pytest.fixture
def other_seller():
    return SellerFactory(store_name="Rival Store")


@pytest.fixture
def order(buyer, make_variant, seller, other_seller):
    """One paid order with a sub-order of each seller."""
    return order_through_checkout(
        buyer=buyer,
        items=[(make_variant(on_hand=5, seller=seller), 2), (make_variant(on_hand=5, seller=other_seller), 1)],
    )


@pytest.fixture
def own(order, seller):
    return order.sub_orders.get(seller=seller)


@pytest.fixture
def others(order, other_seller):
    return order.sub_orders.get(seller=other_seller)


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller.user)
    return client


def url(name, *args, site="seller_admin"):
    return reverse(f"{site}:orders_{name}", args=args)


def deliver(sub_order):
    services.sub_order_ship(sub_order=sub_order, carrier="DHL", tracking_number=f"JD{sub_order.pk:06d}")
    services.sub_order_deliver(sub_order=sub_order)


# --- sub-orders on the seller site ---------------------------------------------------------------------


def test_the_list_shows_only_the_sellers_own_sub_orders_with_a_status_filter(seller_client, own, others):
    response = seller_client.get(url("suborder_changelist"))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own]
    assert seller_client.get(url("suborder_changelist") + "?status__exact=confirmed").context["cl"].result_count == 1
    assert seller_client.get(url("suborder_changelist") + "?status__exact=shipped").context["cl"].result_count == 0
    searched = seller_client.get(url("suborder_changelist") + f"?q={others.order.number}")
    assert list(searched.context["cl"].result_list) == [own]  # same order number: only the own part


def test_a_sub_order_waiting_for_payment_is_not_shown(seller_client, own):
    SubOrder.objects.filter(pk=own.pk).update(status=SubOrder.Status.PENDING_PAYMENT)

    assert seller_client.get(url("suborder_changelist")).context["cl"].result_count == 0
    assert seller_client.get(url("suborder_change", own.pk)).status_code == 404


def test_the_change_page_shows_lines_address_and_the_allowed_buttons(seller_client, own, order):
    response = seller_client.get(url("suborder_change", own.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert own.lines.get().sku in html
    assert order.address["line1"] in html
    assert order.address["city"] in html
    assert "Mark processing" in html
    assert "Ship…" in html
    assert "Cancel sub-order" in html
    assert "Mark delivered" not in html  # not before it ships
    assert 'name="status"' not in html  # no form edits a status


@pytest.mark.parametrize(
    ("view", "method"),
    [
        ("suborder_change", "get"),
        ("suborder_change", "post"),
        ("suborder_history", "get"),
        ("suborder_delete", "get"),
        ("suborder_process", "post"),
        ("suborder_ship", "get"),
        ("suborder_ship", "post"),
        ("suborder_deliver", "post"),
        ("suborder_cancel", "post"),
    ],
)
def test_another_sellers_sub_order_is_not_found_through_every_url(seller_client, own, others, view, method):
    data = {"carrier": "DHL", "tracking_number": "HIJACK"} if method == "post" else None

    response = getattr(seller_client, method)(url(view, others.pk), data)

    assert response.status_code == 404
    others.refresh_from_db()
    assert others.status == SubOrder.Status.CONFIRMED
    assert others.tracking_number == ""
    assert seller_client.get(url(view, 999_999)).status_code == 404


def test_process_ship_and_deliver_through_the_buttons(seller_client, seller, own):
    assert seller_client.post(url("suborder_process", own.pk)).status_code == 302
    own.refresh_from_db()
    assert own.status == SubOrder.Status.PROCESSING

    form = seller_client.get(url("suborder_ship", own.pk))
    assert form.status_code == 200
    assert b'name="carrier"' in form.content
    missing = seller_client.post(url("suborder_ship", own.pk), {"carrier": "", "tracking_number": ""})
    assert missing.status_code == 400
    assert b"errorlist" in missing.content
    shipped = seller_client.post(url("suborder_ship", own.pk), {"carrier": "DHL", "tracking_number": "JD014600"})
    assert shipped.status_code == 302
    own.refresh_from_db()
    assert (own.status, own.carrier, own.tracking_number) == (SubOrder.Status.SHIPPED, "DHL", "JD014600")

    assert seller_client.post(url("suborder_deliver", own.pk)).status_code == 302
    own.refresh_from_db()
    assert own.status == SubOrder.Status.DELIVERED
    moves = list(OrderEvent.objects.filter(sub_order=own).order_by("id").values_list("to_status", "actor_id"))
    assert moves[-3:] == [("processing", seller.user.pk), ("shipped", seller.user.pk), ("delivered", seller.user.pk)]


def test_deliver_before_ship_is_refused_with_a_message(seller_client, own):
    response = seller_client.post(url("suborder_deliver", own.pk), follow=True)

    assert b"cannot become delivered" in response.content
    own.refresh_from_db()
    assert own.status == SubOrder.Status.CONFIRMED


def test_a_button_answers_405_to_a_get(seller_client, own):
    assert seller_client.get(url("suborder_deliver", own.pk)).status_code == 405


def test_cancel_restores_the_stock_and_refunds(seller_client, own):
    variant_stock = Stock.objects.get(sku=own.lines.get().sku)
    on_hand = variant_stock.on_hand

    assert seller_client.post(url("suborder_cancel", own.pk)).status_code == 302

    own.refresh_from_db()
    assert own.status == SubOrder.Status.CANCELLED
    assert own.refunded_total == own.total
    assert Stock.objects.get(pk=variant_stock.pk).on_hand == on_hand + 2


def test_bulk_actions_move_only_the_sellers_own(seller_client, own, others):
    response = seller_client.post(
        url("suborder_changelist"),
        {"action": "mark_processing", "_selected_action": [own.pk, others.pk]},
    )

    assert response.status_code == 302
    own.refresh_from_db()
    others.refresh_from_db()
    assert own.status == SubOrder.Status.PROCESSING
    assert others.status == SubOrder.Status.CONFIRMED


# --- returns on the seller site ------------------------------------------------------------------------


@pytest.fixture
def returns(order, own, others):
    deliver(own)
    deliver(others)
    own_return = services.return_request(order=order, lines=[{"sku": own.lines.get().sku, "quantity": 1}])
    other_return = services.return_request(order=order, lines=[{"sku": others.lines.get().sku, "quantity": 1}])
    return own_return, other_return


def test_the_seller_sees_only_its_returns_and_approves_one(seller_client, returns):
    own_return, _ = returns
    sku = own_return.lines.get().order_line.sku
    on_hand = Stock.objects.get(sku=sku).on_hand
    listing = seller_client.get(url("return_changelist"))
    assert list(listing.context["cl"].result_list) == [own_return]
    page = seller_client.get(url("return_change", own_return.pk))
    assert page.status_code == 200
    assert b"Approve and refund" in page.content

    assert seller_client.post(url("return_approve", own_return.pk)).status_code == 302

    own_return.refresh_from_db()
    assert own_return.status == Return.Status.REFUNDED
    assert own_return.refunds.get().status == "succeeded"
    assert Stock.objects.get(sku=sku).on_hand == on_hand  # the box was not ticked


def test_the_seller_approves_a_return_and_puts_its_units_back_in_stock(seller_client, returns):
    own_return, _ = returns
    sku = own_return.lines.get().order_line.sku
    on_hand = Stock.objects.get(sku=sku).on_hand
    assert b'name="restock"' in seller_client.get(url("return_change", own_return.pk)).content

    done = seller_client.post(url("return_approve", own_return.pk), {"restock": "on"}, follow=True)

    assert b"back in stock" in done.content
    own_return.refresh_from_db()
    assert own_return.status == Return.Status.REFUNDED
    assert Stock.objects.get(sku=sku).on_hand == on_hand + 1


def test_rejecting_needs_a_reason_shown_to_the_buyer(seller_client, returns, client, buyer):
    own_return, _ = returns

    empty = seller_client.post(url("return_reject", own_return.pk), {"reason": ""})
    assert empty.status_code == 400
    assert b"errorlist" in empty.content
    assert seller_client.post(url("return_reject", own_return.pk), {"reason": "Used"}).status_code == 302

    own_return.refresh_from_db()
    assert (own_return.status, own_return.rejection_reason) == (Return.Status.REJECTED, "Used")
    client.force_login(buyer)
    assert b"Reason: Used" in client.get(f"/orders/{own_return.order.number}/").content


@pytest.mark.parametrize(
    ("view", "method"),
    [
        ("return_change", "get"),
        ("return_history", "get"),
        ("return_approve", "post"),
        ("return_reject", "get"),
        ("return_reject", "post"),
    ],
)
def test_another_sellers_return_is_not_found_through_every_url(seller_client, returns, view, method):
    _, other_return = returns

    response = getattr(seller_client, method)(
        url(view, other_return.pk), {"reason": "no"} if method == "post" else None
    )

    assert response.status_code == 404
    other_return.refresh_from_db()
    assert other_return.status == Return.Status.REQUESTED


# --- staff ---------------------------------------------------------------------------------------------


def test_staff_see_the_order_with_its_timeline_and_can_ship_any_sub_order(client, order, others):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.status_code == 200
    assert b"timeline" in page.content.lower()
    assert b"Own Store" in page.content
    assert b"Rival Store" in page.content
    assert client.get(reverse("admin:orders_checkout_change", args=[order.checkout_id])).status_code == 200
    assert client.get(reverse("admin:orders_suborder_change", args=[others.pk])).status_code == 200

    shipped = client.post(url("suborder_ship", others.pk, site="admin"), {"carrier": "UPS", "tracking_number": "1Z9"})

    assert shipped.status_code == 302
    others.refresh_from_db()
    assert others.status == SubOrder.Status.SHIPPED


def test_staff_without_change_rights_cannot_press_the_buttons(client, others):
    viewer = UserFactory(is_staff=True)
    client.force_login(viewer)

    assert client.post(url("suborder_deliver", others.pk, site="admin")).status_code in (403, 404)
    others.refresh_from_db()
    assert others.status == SubOrder.Status.CONFIRMED


def test_every_staff_orders_page_renders(client, returns):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    services.return_approve(the_return=returns[0])
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "orders":
            continue
        name = model._meta.model_name
        assert client.get(reverse(f"admin:orders_{name}_changelist")).status_code == 200, name
        obj = model_admin.get_queryset(type("Request", (), {"user": None})()).first()
        if obj is not None:
            assert client.get(reverse(f"admin:orders_{name}_change", args=[obj.pk])).status_code == 200, name
    assert client.get(reverse("admin:orders_shippingmethod_add")).status_code == 200
    assert client.get(reverse("admin:orders_taxrate_add")).status_code == 200
