"""Factories of the orders app, for its tests and the tests of the apps above it (reviews,
notifications, storefront, backoffice).

``delivered_order_for(buyer=..., variant=...)`` makes a paid order whose one sub-order was shipped
and delivered, without going through the checkout saga (no stock, no gateway): what a review of a
verified purchase needs. Orders made through the real saga come from ``orders.services``
(``checkout_start`` then ``checkout_pay``), as the orders tests do.
"""

from __future__ import annotations

import importlib
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from cart import services as cart_services
from orders import services
from orders.models import Checkout, Order, OrderEvent, OrderLine, ShippingMethod, SubOrder, TaxRate
from shop.core.money import to_decimal

ADDRESS = {
    "full_name": "Ada Buyer",
    "line1": "1 Market Street",
    "line2": "",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
    "phone": "",
}


def shipping_methods_ensure() -> None:
    """The shipping methods the data migration seeds (standard, express), for tests whose database
    was flushed (``transaction=True`` tests empty every table, data migrations' rows included)."""
    seeded = importlib.import_module("orders.migrations.0002_shipping_methods").DEFAULTS
    for fields in seeded:
        ShippingMethod.objects.get_or_create(code=fields["code"], defaults={**fields, "currency": "EUR"})


class ShippingMethodFactory(DjangoModelFactory):
    class Meta:
        model = ShippingMethod
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"method-{n}")
    name = factory.Sequence(lambda n: f"Method {n}")
    kind = ShippingMethod.Kind.FLAT
    base_price = Decimal("4.90")
    price_per_kg = Decimal("0.00")
    free_over = None
    currency = "EUR"


class TaxRateFactory(DjangoModelFactory):
    class Meta:
        model = TaxRate

    country = "DE"
    category = None
    rate = Decimal("0.1900")


class CheckoutFactory(DjangoModelFactory):
    """A paid checkout record (for orders made without the saga)."""

    class Meta:
        model = Checkout

    buyer = factory.SubFactory(UserFactory)
    status = Checkout.Status.PAID
    idempotency_key = factory.Sequence(lambda n: f"factory-checkout-{n}")
    address = factory.LazyFunction(lambda: dict(ADDRESS))
    shipping_method = factory.LazyFunction(lambda: ShippingMethod.objects.get_or_create(code="standard")[0])
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=10))


def order_for(*, buyer, variant, quantity: int = 1, status: str = SubOrder.Status.CONFIRMED, days_to_ship: int = 2):
    """A paid order of ``quantity`` units of ``variant`` for ``buyer``, its sub-order moved to
    ``status`` (confirmed, processing, shipped or delivered), its events recorded. No tax, no
    shipping, no discount: the line total is the price times the quantity; commission 10%."""
    now = timezone.now()
    subtotal = to_decimal(variant.price * quantity)
    checkout = CheckoutFactory(buyer=buyer, subtotal=subtotal, total=subtotal, currency=variant.currency)
    order = Order.objects.create(
        number=f"SHP-T{checkout.pk:07d}",
        buyer=buyer,
        checkout=checkout,
        currency=variant.currency,
        subtotal=subtotal,
        total=subtotal,
        address=dict(ADDRESS),
        confirmed_at=now - timedelta(days=days_to_ship + 3),
    )
    sub_order = SubOrder.objects.create(
        order=order,
        seller=variant.product.seller,
        status=SubOrder.Status.CONFIRMED,
        currency=variant.currency,
        subtotal=subtotal,
        total=subtotal,
        commission=to_decimal(subtotal * Decimal("0.10")),
        confirmed_at=now - timedelta(days=days_to_ship + 3),
    )
    OrderLine.objects.create(
        sub_order=sub_order,
        variant=variant,
        product=variant.product,
        sku=variant.sku,
        title=variant.product.title,
        quantity=quantity,
        unit_price=variant.price,
        currency=variant.currency,
        subtotal=subtotal,
        total=subtotal,
        commission_rate=Decimal("0.1000"),
        commission_amount=to_decimal(subtotal * Decimal("0.10")),
    )
    OrderEvent.objects.create(order=order, sub_order=sub_order, from_status="pending_payment", to_status="confirmed")
    path = {
        SubOrder.Status.PROCESSING: ["processing"],
        SubOrder.Status.SHIPPED: ["shipped"],
        SubOrder.Status.DELIVERED: ["shipped", "delivered"],
    }.get(status, [])
    previous = "confirmed"
    for step in path:
        OrderEvent.objects.create(order=order, sub_order=sub_order, from_status=previous, to_status=step)
        previous = step
    if "shipped" in path:
        sub_order.shipped_at = sub_order.confirmed_at + timedelta(days=days_to_ship)
        sub_order.carrier, sub_order.tracking_number = "DHL", f"TRACK{sub_order.pk:08d}"
    if "delivered" in path:
        sub_order.delivered_at = sub_order.shipped_at + timedelta(days=1)
    sub_order.status = status
    sub_order.save()
    order_status = {
        SubOrder.Status.SHIPPED: Order.Status.SHIPPED,
        SubOrder.Status.DELIVERED: Order.Status.DELIVERED,
    }.get(status, Order.Status.CONFIRMED)
    order.status = order_status
    order.save(update_fields=["status"])
    return order


def delivered_order_for(*, buyer, variant, quantity: int = 1, days_to_ship: int = 2) -> Order:
    """A delivered order of ``variant`` for ``buyer`` (reviews: a verified purchase); it shipped
    ``days_to_ship`` days after it was confirmed."""
    return order_for(
        buyer=buyer, variant=variant, quantity=quantity, status=SubOrder.Status.DELIVERED, days_to_ship=days_to_ship
    )


def order_through_checkout(
    *,
    buyer,
    items,
    shipping_method: str = "standard",
    coupon: str = "",
    token: str = "tok_visa",  # noqa: S107
):
    """A real paid order: ``items`` ``[(variant, quantity)]`` put in the buyer's cart, a checkout
    started and paid with a sandbox token (stock committed, payment captured, ledger written), so
    cancellations and returns can be refunded. The variants need stock; the buyer an address."""
    owner = cart_services.CartOwner(user=buyer)
    for variant, quantity in items:
        cart_services.cart_line_add(owner=owner, sku=variant.sku, quantity=quantity)
    key = f"factory-{buyer.pk}-{timezone.now().timestamp()}"
    checkout, _ = services.checkout_start(
        user=buyer, idempotency_key=key, shipping_method=shipping_method, coupon=coupon
    )
    result = services.checkout_pay(user=buyer, checkout_id=checkout.pk, idempotency_key=key, token=token)
    if result.status_code != 201:
        raise AssertionError(f"the payment did not go through: {result.body}")
    return result.order
