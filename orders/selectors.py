"""Read queries of the orders app: a buyer's orders and checkouts, a seller's sub-orders and returns,
timelines, shipping methods, and the facts other apps ask about (reviews: verified purchases and
fulfilment speed)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Avg, DurationField, ExpressionWrapper, F, Prefetch, QuerySet

from orders.models import Checkout, Order, OrderEvent, OrderLine, Return, ReturnLine, ShippingMethod, SubOrder

SECONDS_PER_DAY = Decimal(86400)


def shipping_methods_active() -> list[ShippingMethod]:
    return list(ShippingMethod.objects.filter(active=True).order_by("position", "id"))


def _order_queryset() -> QuerySet[Order]:
    return Order.objects.prefetch_related(
        Prefetch(
            "sub_orders",
            queryset=SubOrder.objects.select_related("seller").prefetch_related("lines").order_by("id"),
        ),
        Prefetch("events", queryset=OrderEvent.objects.order_by("at", "id")),
        Prefetch("returns", queryset=Return.objects.select_related("sub_order").prefetch_related("lines__order_line")),
    )


def orders_for_buyer(*, user) -> QuerySet[Order]:
    """The buyer's orders, newest first, with sub-orders, lines, events and returns prefetched.
    Orders whose payment never came (``failed``) are included; the pages may hide them."""
    return _order_queryset().filter(buyer=user).order_by("-created_at", "-id")


def order_for_buyer(*, user, number: str) -> Order | None:
    """One of the buyer's orders by number; None for another buyer's (its existence is not revealed)."""
    if not isinstance(number, str):
        return None
    return _order_queryset().filter(buyer=user, number=number.strip().upper()).first()


def order_timeline(*, order: Order) -> list[OrderEvent]:
    """Every transition of the order, its sub-orders and its returns, oldest first."""
    return list(order.events.select_related("sub_order__seller", "return_request").order_by("at", "id"))


def checkout_for_buyer(*, user, checkout_id: int) -> Checkout | None:
    return (
        Checkout.objects.filter(buyer=user, pk=checkout_id)
        .select_related("shipping_method")
        .prefetch_related("lines", "packages__seller")
        .first()
    )


def checkout_open_for_buyer(*, user) -> Checkout | None:
    """The buyer's checkout that is reserved or being paid, if any."""
    return (
        Checkout.objects.filter(buyer=user, status__in=Checkout.OPEN_STATUSES)
        .select_related("shipping_method")
        .prefetch_related("lines", "packages__seller")
        .first()
    )


def sub_orders_for_seller(*, seller, status: str | None = None) -> QuerySet[SubOrder]:
    """The seller's sub-orders (never those still waiting for payment or failed), newest first."""
    query = (
        SubOrder.objects.filter(seller=seller)
        .exclude(status__in=[SubOrder.Status.PENDING_PAYMENT, SubOrder.Status.FAILED])
        .select_related("order", "seller")
        .prefetch_related("lines")
        .order_by("-created_at", "-id")
    )
    if status:
        query = query.filter(status=status)
    return query


def sub_order_for_seller(*, seller, sub_order_id) -> SubOrder | None:
    if isinstance(sub_order_id, bool) or not str(sub_order_id).isdigit():
        return None
    return sub_orders_for_seller(seller=seller).filter(pk=int(sub_order_id)).first()


def returns_for_seller(*, seller, status: str | None = None) -> QuerySet[Return]:
    query = (
        Return.objects.filter(sub_order__seller=seller)
        .select_related("order", "sub_order")
        .prefetch_related("lines__order_line")
        .order_by("-created_at", "-id")
    )
    if status:
        query = query.filter(status=status)
    return query


def return_for_seller(*, seller, return_id) -> Return | None:
    if isinstance(return_id, bool) or not str(return_id).isdigit():
        return None
    return returns_for_seller(seller=seller).filter(pk=int(return_id)).first()


def returnable_quantities(*, order: Order) -> dict[int, int]:
    """Units of each line of the order's delivered sub-orders that can still be returned, by line id."""
    lines = list(OrderLine.objects.filter(sub_order__order=order, sub_order__status=SubOrder.Status.DELIVERED))
    taken: dict[int, int] = {}
    for line_id, quantity in (
        ReturnLine.objects.filter(order_line__in=lines)
        .exclude(return_request__status=Return.Status.REJECTED)
        .values_list("order_line_id", "quantity")
    ):
        taken[line_id] = taken.get(line_id, 0) + quantity
    return {line.pk: line.quantity - taken.get(line.pk, 0) for line in lines}


def has_received_product(*, user_id: int, product_id: int) -> bool:
    """Whether the buyer received a variant of this product (a line of a delivered sub-order)."""
    return OrderLine.objects.filter(
        product_id=product_id,
        sub_order__status=SubOrder.Status.DELIVERED,
        sub_order__order__buyer_id=user_id,
    ).exists()


def seller_fulfilment_days(*, seller_id: int) -> Decimal | None:
    """The seller's average days from confirmation to shipping, over its shipped sub-orders
    (shipped or delivered since); None before its first shipment."""
    average = (
        SubOrder.objects.filter(seller_id=seller_id, shipped_at__isnull=False, confirmed_at__isnull=False)
        .annotate(took=ExpressionWrapper(F("shipped_at") - F("confirmed_at"), output_field=DurationField()))
        .aggregate(average=Avg("took"))["average"]
    )
    if average is None:
        return None
    return (Decimal(average.total_seconds()) / SECONDS_PER_DAY).quantize(Decimal("0.01"))
