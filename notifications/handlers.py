"""Emails sent when domain events are delivered: outbox handlers (shop.core.events), each run once
per (event, handler), and each sending at most one email, so an event redelivered by the relay
sends nothing again. What an email shows is read through the orders selectors when it is sent.

Buyer: order confirmed (a receipt with each seller's part), a parcel shipped, delivered or cancelled,
a refund issued. Seller: a new sub-order (only its lines and the ship-to address), a return
requested, low stock.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model

from catalog.models import Variant
from inventory import events as inventory_events
from notifications.emails import email_send, page_url
from notifications.templatetags.email_tags import money
from orders import events as orders_events
from orders import selectors as order_selectors
from orders.models import Return, SubOrder
from sellers.models import Seller
from shop.core.events import handles
from shop.core.models import OutboxEvent

SS = SubOrder.Status


def _order_url(number: str) -> str:
    """The buyer's page of the order (timeline, cancel and return buttons)."""
    return page_url("orders:order_detail", number)


def _seller_url(model: str, object_id: int) -> str:
    """A sub-order's or a return's page in the Seller Centre (where it is shipped, approved, ...)."""
    return page_url(f"seller_admin:orders_{model}_change", object_id)


def _buyer_and_order(*, buyer_id, number: str):
    """The buyer (with an email address) and their order, or ``(None, None)`` if either is gone."""
    buyer = get_user_model().objects.filter(pk=buyer_id, is_active=True).first()
    if buyer is None or not buyer.email:
        return None, None
    order = order_selectors.order_for_buyer(user=buyer, number=number)
    if order is None:
        return None, None
    return buyer, order


def _seller(seller_id) -> Seller | None:
    seller = Seller.objects.select_related("user").filter(pk=seller_id).first()
    if seller is None or not seller.user.email or not seller.user.is_active:
        return None
    return seller


def _part(order, sub_order_id) -> SubOrder | None:
    return next((part for part in order.sub_orders.all() if part.pk == sub_order_id), None)


def _units(lines) -> int:
    return sum(line.quantity for line in lines)


# --- buyer ---------------------------------------------------------------------------------------------


@handles(orders_events.ORDER_CONFIRMED)
def email_buyer_order_confirmed(event: OutboxEvent) -> None:
    """The receipt: every seller's part (lines, shipping, discount, tax, total), the order's totals
    and the delivery address."""
    payload = event.payload
    buyer, order = _buyer_and_order(buyer_id=payload["buyer_id"], number=payload["number"])
    if order is None:
        return
    parts = [part for part in order.sub_orders.all() if part.status not in (SS.PENDING_PAYMENT, SS.FAILED)]
    if not parts:
        return  # never paid after all (the event is only published on payment)
    email_send(
        to=buyer.email,
        subject=f"Your order {order.number} is confirmed",
        template="order_confirmed",
        context={"buyer": buyer, "order": order, "parts": parts, "order_url": _order_url(order.number)},
        event_id=event.pk,
        kind="order-confirmed",
    )


BUYER_PARCEL_EMAILS = {
    SS.SHIPPED: "sub_order_shipped",
    SS.DELIVERED: "sub_order_delivered",
    SS.CANCELLED: "sub_order_cancelled",
}


def _parcel_subject(status: str, *, store: str, number: str, whole_order: bool) -> str:
    if status == SS.SHIPPED:
        return f"Your parcel from {store} is on its way (order {number})"
    if status == SS.DELIVERED:
        return f"Your parcel from {store} was delivered (order {number})"
    if whole_order:
        return f"Your order {number} was cancelled"
    return f"{store}'s part of your order {number} was cancelled"


@handles(orders_events.SUB_ORDER_STATUS_CHANGED)
def email_buyer_parcel_update(event: OutboxEvent) -> None:
    """A seller's part of the order shipped (carrier, tracking number), was delivered, or was
    cancelled (its refund follows in its own email). Each part moves on its own, so cancelling a
    whole order of several sellers tells the buyer once per part, each with its lines and amount."""
    payload = event.payload
    if payload["to"] not in BUYER_PARCEL_EMAILS:
        return
    buyer, order = _buyer_and_order(buyer_id=payload["buyer_id"], number=payload["number"])
    part = _part(order, payload["sub_order_id"]) if order is not None else None
    if part is None:
        return
    whole = len(order.sub_orders.all()) == 1
    note = ""
    if payload["to"] == SS.CANCELLED:
        cancelled = [e for e in order.events.all() if e.sub_order_id == part.pk and e.to_status == SS.CANCELLED]
        note = cancelled[-1].note if cancelled else ""
    email_send(
        to=buyer.email,
        subject=_parcel_subject(payload["to"], store=part.seller.store_name, number=order.number, whole_order=whole),
        template=BUYER_PARCEL_EMAILS[payload["to"]],
        context={
            "buyer": buyer,
            "order": order,
            "part": part,
            "lines": part.lines.all(),
            "whole_order": whole,
            "note": note,
            "refund": part.total if part.total > 0 and order.payment_intent_id else None,
            "order_url": _order_url(order.number),
        },
        event_id=event.pk,
        kind=f"sub-order-{payload['to']}",
    )


@handles(orders_events.REFUND_ISSUED)
def email_buyer_refund_issued(event: OutboxEvent) -> None:
    """Money went back: how much, for which seller's part, and why (a return, a cancellation, or
    items that sold out before a late payment arrived)."""
    payload = event.payload
    buyer_id = get_user_model().objects.filter(orders=payload["order_id"]).values_list("pk", flat=True).first()
    buyer, order = _buyer_and_order(buyer_id=buyer_id, number=payload["number"])
    part = _part(order, payload["sub_order_id"]) if order is not None else None
    if part is None:
        return
    the_return = None
    if payload.get("return_id"):
        the_return = next((r for r in order.returns.all() if r.pk == payload["return_id"]), None)
    if the_return is not None:
        cause = "return"
    elif part.status == SS.FAILED:
        cause = "sold_out"
    else:
        cause = "cancelled"
    amount = Decimal(payload["amount"])
    email_send(
        to=buyer.email,
        subject=f"Refund of {money(amount, payload['currency'])} for order {order.number}",
        template="refund_issued",
        context={
            "buyer": buyer,
            "order": order,
            "part": part,
            "amount": amount,
            "currency": payload["currency"],
            "the_return": the_return,
            "return_lines": the_return.lines.all() if the_return is not None else [],
            "cause": cause,
            "order_url": _order_url(order.number),
        },
        event_id=event.pk,
        kind="refund-issued",
    )


# --- seller --------------------------------------------------------------------------------------------


@handles(orders_events.SUB_ORDER_STATUS_CHANGED)
def email_seller_new_sub_order(event: OutboxEvent) -> None:
    """A paid order includes this seller's products: only its own lines, its totals and payout, and
    where to ship them. One email per sub-order (each is confirmed by its own event)."""
    payload = event.payload
    if payload["to"] != SS.CONFIRMED:
        return
    seller = _seller(payload["seller_id"])
    if seller is None:
        return
    sub_order = order_selectors.sub_order_for_seller(seller=seller, sub_order_id=payload["sub_order_id"])
    if sub_order is None:
        return
    lines = list(sub_order.lines.all())
    units = _units(lines)
    email_send(
        to=seller.user.email,
        subject=f"New order {sub_order.order.number}: {units} item{'s' if units != 1 else ''} to ship",
        template="seller_new_sub_order",
        context={
            "seller": seller,
            "sub_order": sub_order,
            "order": sub_order.order,
            "lines": lines,
            "net": sub_order.total - sub_order.commission,
            "sub_order_url": _seller_url("suborder", sub_order.pk),
        },
        event_id=event.pk,
        kind="seller-new-sub-order",
    )


@handles(orders_events.RETURN_STATUS_CHANGED)
def email_seller_return_requested(event: OutboxEvent) -> None:
    """A buyer asked to return lines of a delivered sub-order: which units, why, and what approving
    it refunds."""
    payload = event.payload
    if payload["to"] != Return.Status.REQUESTED:
        return
    seller = _seller(payload["seller_id"])
    if seller is None:
        return
    the_return = order_selectors.return_for_seller(seller=seller, return_id=payload["return_id"])
    if the_return is None:
        return
    lines = list(the_return.lines.all())
    email_send(
        to=seller.user.email,
        subject=f"Return requested for order {the_return.order.number}",
        template="seller_return_requested",
        context={
            "seller": seller,
            "the_return": the_return,
            "order": the_return.order,
            "lines": lines,
            "units": _units(lines),
            "return_url": _seller_url("return", the_return.pk),
        },
        event_id=event.pk,
        kind="seller-return-requested",
    )


@handles(inventory_events.LOW_STOCK)
def email_seller_low_stock(event: OutboxEvent) -> None:
    """Tell the seller a SKU is running low, once per crossing of its threshold (the inventory app
    publishes the event once per crossing; the outbox runs this handler once per event)."""
    payload = event.payload
    seller = _seller(payload["seller_id"])
    variant = Variant.objects.select_related("product").filter(pk=payload["variant_id"]).first()
    if seller is None or variant is None:
        return  # deleted since: nobody to tell
    email_send(
        to=seller.user.email,
        subject=f"Low stock: {variant.product.title} ({payload['sku']}) has {payload['available']} left",
        template="low_stock",
        context={
            "seller": seller,
            "product": variant.product,
            "sku": payload["sku"],
            "available": payload["available"],
            "threshold": payload["threshold"],
            "stock_url": page_url("seller_admin:inventory_stock_changelist"),
        },
        event_id=event.pk,
        kind="low-stock",
    )
