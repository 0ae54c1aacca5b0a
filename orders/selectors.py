"""Read queries of the orders app: a buyer's orders and checkouts, a seller's sub-orders and returns,
timelines, shipping methods, and the facts other apps ask about (reviews: verified purchases and
fulfilment speed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

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


# --- the checkout pages' preview ---------------------------------------------------------------------


@dataclass
class PreviewLine:
    sku: str
    title: str
    slug: str
    seller_id: int
    quantity: int
    unit_price: Decimal  # now: what checkout charges
    cart_price: Decimal  # the cart's snapshot
    currency: str
    available: int  # units the buyer can have now (their own open checkout's units count as theirs)
    subtotal: Decimal = Decimal("0.00")
    discount: Decimal = Decimal("0.00")
    shipping: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")

    @property
    def price_changed(self) -> bool:
        return self.unit_price != self.cart_price

    @property
    def out_of_stock(self) -> bool:
        return self.available < self.quantity


@dataclass
class PreviewPackage:
    seller: Any
    lines: list[PreviewLine]
    subtotal: Decimal
    discount: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal


@dataclass
class CheckoutPreview:
    """What a checkout of the cart would be now (the summary page), without reserving anything:
    ``checkout_start`` prices it again, under the reservation."""

    currency: str
    lines: list[PreviewLine] = field(default_factory=list)
    packages: list[PreviewPackage] = field(default_factory=list)
    removed: list = field(default_factory=list)  # cart lines no longer sold (cart.selectors.RemovedLine)
    shipping_by_method: dict[str, list[tuple[Any, Decimal]]] = field(default_factory=dict)  # code -> [(seller, price)]
    coupon_code: str = ""
    coupon_error: str = ""
    subtotal: Decimal = Decimal("0.00")
    discount: Decimal = Decimal("0.00")
    shipping: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    read_only: bool = False  # the cart is the durable copy (Redis down)

    @property
    def price_changes(self) -> list[PreviewLine]:
        return [line for line in self.lines if line.price_changed]

    @property
    def out_of_stock(self) -> list[PreviewLine]:
        return [line for line in self.lines if line.out_of_stock]


def checkout_preview(*, user, shipping_method: ShippingMethod, country: str, coupon: str = "") -> CheckoutPreview:
    """The buyer's cart priced as a checkout would price it (packages per seller, coupon, shipping
    by each active method, tax for ``country``), with availability and price changes. A coupon that
    cannot apply is left out and its reason put in ``coupon_error``. Raises cart's CartUnavailable."""
    from cart import selectors as cart_selectors
    from cart import services as cart_services
    from catalog.models import Variant
    from inventory import selectors as inventory_selectors
    from orders import pricing
    from orders.tax import tax_rates_for
    from promotions import services as promotion_services
    from sellers.models import Seller

    cart = cart_selectors.cart_get(owner=cart_services.CartOwner(user=user))
    preview = CheckoutPreview(currency=cart.currency, removed=list(cart.removed), read_only=cart.read_only)
    if not cart.lines:
        return preview
    variants = {
        variant.sku: variant
        for variant in Variant.objects.filter(sku__in=[line.sku for line in cart.lines]).select_related(
            "product__category"
        )
    }
    available = inventory_selectors.availability_for_variants(variant_ids=[v.pk for v in variants.values()])
    own_open = checkout_open_for_buyer(user=user)
    if own_open is not None and own_open.status == Checkout.Status.RESERVED and own_open.is_priced:
        for held in own_open.lines.all():  # released as soon as a new checkout starts
            available[held.variant_id] = available.get(held.variant_id, 0) + held.quantity
    for line in cart.lines:
        variant = variants.get(line.sku)
        if variant is None:
            continue
        preview.lines.append(
            PreviewLine(
                sku=line.sku,
                title=line.title,
                slug=line.slug,
                seller_id=variant.product.seller_id,
                quantity=line.quantity,
                unit_price=line.current_price,
                cart_price=line.unit_price,
                currency=line.currency,
                available=max(available.get(variant.pk, 0), 0),
            )
        )
    sellers = Seller.objects.in_bulk({line.seller_id for line in preview.lines})
    rates = tax_rates_for(country=country or "", category_paths={v.product.category.path for v in variants.values()})
    inputs = [
        pricing.LineInput(
            sku=line.sku,
            seller_id=line.seller_id,
            quantity=line.quantity,
            unit_price=line.unit_price,
            weight_grams=variants[line.sku].weight_grams,
            tax_rate=rates.get(variants[line.sku].product.category.path, Decimal("0")),
        )
        for line in preview.lines
    ]
    subtotals: dict[int, Decimal] = {}
    for item in inputs:
        subtotals[item.seller_id] = subtotals.get(item.seller_id, Decimal("0.00")) + item.unit_price * item.quantity
    quote = None
    code = promotion_services.coupon_code_normalize(coupon) if coupon else ""
    if code:
        try:
            quote = promotion_services.coupon_quote(
                code=code, user_id=user.pk, subtotal_by_seller=subtotals, currency=preview.currency
            )
            preview.coupon_code = code
        except promotion_services.CouponInvalid as exc:
            preview.coupon_error = str(exc)

    def priced_with(method: ShippingMethod):
        return pricing.price(
            lines=inputs,
            currency=preview.currency,
            method=method,
            discount_by_seller=quote.discount_by_seller if quote else None,
            free_shipping_sellers=quote.free_shipping_sellers if quote else frozenset(),
        )

    for method in shipping_methods_active():
        priced = priced_with(method)
        preview.shipping_by_method[method.code] = [
            (sellers.get(seller_id), package.shipping) for seller_id, package in priced.packages.items()
        ]
    priced = priced_with(shipping_method)
    for line, amounts in zip(preview.lines, priced.lines, strict=True):
        line.subtotal, line.discount, line.shipping = amounts.subtotal, amounts.discount, amounts.shipping
        line.tax, line.total = amounts.tax, amounts.total
    for seller_id, package in priced.packages.items():
        preview.packages.append(
            PreviewPackage(
                seller=sellers.get(seller_id),
                lines=[line for line in preview.lines if line.seller_id == seller_id],
                subtotal=package.subtotal,
                discount=package.discount,
                shipping=package.shipping,
                tax=package.tax,
                total=package.total,
            )
        )
    preview.subtotal, preview.discount, preview.shipping = priced.subtotal, priced.discount, priced.shipping
    preview.tax, preview.total = priced.tax, priced.total
    return preview
