"""Checkouts, orders split per seller, returns and refunds (DESIGN.md, "Checkout saga" and "States").

A **Checkout** is the saga's record: the buyer's lines at the prices charged, the address and
shipping snapshot, the coupon, the per-seller packages with their shipping, discount and tax, and the
stock reservation. Paying creates one **Order** (``Order.checkout`` is unique, so at most one per
checkout) with one **SubOrder** per seller. Each ``PaymentAttempt`` records one pay request (its
Idempotency-Key and outcome); ``CheckoutStep`` logs every step taken, so a resumed or compensated
saga can be read back.

Money columns are ``MoneyField`` beside the row's ``currency``. Discount, shipping and tax are
allocated to lines when the checkout is priced and copied to the order lines, so
``line.total = subtotal - discount + shipping + tax`` and the lines add up exactly to their
sub-order's and order's totals; partial refunds and commissions come from these stored amounts.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from shop.core.money import CurrencyField, MoneyField

ZERO = Decimal("0.00")


class ShippingMethod(models.Model):
    """A way to ship one seller's package. ``flat``: ``base_price`` per package; ``weight``:
    ``base_price`` plus ``price_per_kg`` times the package's weight. A package whose subtotal after
    discount reaches ``free_over`` ships free."""

    class Kind(models.TextChoices):
        FLAT = "flat", "Flat rate"
        WEIGHT = "weight", "By weight"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FLAT)
    base_price = MoneyField(default=ZERO)
    price_per_kg = MoneyField(default=ZERO)
    free_over = MoneyField(null=True, blank=True, help_text="A package worth at least this ships free.")
    currency = CurrencyField()
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(base_price__gte=0), name="shipping_base_price_not_negative"),
            models.CheckConstraint(condition=models.Q(price_per_kg__gte=0), name="shipping_per_kg_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class TaxRate(models.Model):
    """A tax rule: ``rate`` for goods shipped to ``country``, for one category and its subtree, or
    for every category (``category`` empty). The most specific rule wins (orders/tax.py)."""

    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code, such as DE.")
    category = models.ForeignKey(
        "catalog.Category", on_delete=models.CASCADE, null=True, blank=True, related_name="tax_rates"
    )
    rate = models.DecimalField(max_digits=5, decimal_places=4, help_text="0.1900 is 19%.")
    name = models.CharField(max_length=60, blank=True, help_text="Shown on receipts, such as 'VAT 19%'.")

    class Meta:
        ordering = ["country", "category_id"]
        constraints = [
            models.UniqueConstraint(fields=["country", "category"], name="tax_rate_one_per_country_category"),
            models.UniqueConstraint(
                fields=["country"], condition=models.Q(category__isnull=True), name="tax_rate_one_default_per_country"
            ),
            models.CheckConstraint(condition=models.Q(rate__gte=0, rate__lte=1), name="tax_rate_between_0_and_1"),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.category or 'all'}: {self.rate:.2%}"


# --- checkout ---------------------------------------------------------------------------------------


class Checkout(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"  # stock held, waiting for a payment
        PAYING = "paying", "Paying"  # a payment is in flight (or its outcome is unknown)
        PAID = "paid", "Paid"
        ABANDONED = "abandoned", "Abandoned"
        EXPIRED = "expired", "Expired"

    OPEN_STATUSES = (Status.RESERVED, Status.PAYING)

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkouts")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RESERVED)
    idempotency_key = models.CharField(max_length=200)
    address = models.JSONField(default=dict)  # a snapshot: later edits of the address book do not move orders
    shipping_method = models.ForeignKey(ShippingMethod, on_delete=models.PROTECT, related_name="+")
    coupon_code = models.CharField(max_length=40, blank=True)
    coupon_id = models.BigIntegerField(null=True, blank=True)  # promotions.Coupon, kept by id: the use is promotions'
    currency = CurrencyField()
    subtotal = MoneyField(default=ZERO)
    discount = MoneyField(default=ZERO)
    shipping = MoneyField(default=ZERO)
    tax = MoneyField(default=ZERO)
    total = MoneyField(default=ZERO)
    price_changes = models.JSONField(default=list, blank=True)  # [{sku, old, new}]
    # Set by the last step of checkout_start: a checkout without it was interrupted before it was
    # priced, and is finished by a replay of its key or released by the expiry job.
    reservation = models.ForeignKey(
        "inventory.Reservation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    paying_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "idempotency_key"], name="checkout_key_unique_per_buyer"),
            # one open checkout per buyer: starting another abandons the reserved one first
            models.UniqueConstraint(
                fields=["buyer"], condition=models.Q(status__in=["reserved", "paying"]), name="checkout_one_open"
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=models.Q(status="reserved"), name="checkout_reserved_exp"),
            models.Index(fields=["paying_since"], condition=models.Q(status="paying"), name="checkout_paying_since"),
        ]

    def __str__(self) -> str:
        return f"checkout {self.pk} ({self.status})"

    @property
    def reservation_key(self) -> str:
        return f"checkout:{self.pk}"

    @property
    def coupon_reference(self) -> str:
        return f"checkout:{self.pk}"

    @property
    def is_priced(self) -> bool:
        return self.reservation_id is not None


class CheckoutPackage(models.Model):
    """One seller's part of a checkout: its lines ship together and are priced together."""

    checkout = models.ForeignKey(Checkout, on_delete=models.CASCADE, related_name="packages")
    seller = models.ForeignKey("sellers.Seller", on_delete=models.PROTECT, related_name="+")
    weight_grams = models.PositiveIntegerField(default=0)
    subtotal = MoneyField(default=ZERO)
    discount = MoneyField(default=ZERO)
    shipping = MoneyField(default=ZERO)
    tax = MoneyField(default=ZERO)
    total = MoneyField(default=ZERO)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["checkout", "seller"], name="checkout_package_per_seller")]

    def __str__(self) -> str:
        return f"checkout {self.checkout_id} / seller {self.seller_id}"


class CheckoutLine(models.Model):
    checkout = models.ForeignKey(Checkout, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey("sellers.Seller", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    unit_price = MoneyField()
    currency = CurrencyField()
    weight_grams = models.PositiveIntegerField(default=0)  # of one unit
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0"))
    subtotal = MoneyField(default=ZERO)
    discount = MoneyField(default=ZERO)
    shipping = MoneyField(default=ZERO)
    tax = MoneyField(default=ZERO)
    total = MoneyField(default=ZERO)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="checkout_line_quantity")]

    def __str__(self) -> str:
        return f"{self.sku} x{self.quantity}"


class PaymentAttempt(models.Model):
    """One pay request of a checkout, by its Idempotency-Key. Stored (``pending``) before the gateway
    is called; its final ``response`` is what a replay of the key answers."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # the gateway is being called (or the worker died meanwhile)
        SUCCEEDED = "succeeded", "Succeeded"
        DECLINED = "declined", "Declined"
        UNAVAILABLE = "unavailable", "Unavailable"
        UNKNOWN = "unknown", "Unknown"  # timed out: the reconciliation settles it
        INVALID = "invalid", "Invalid token"
        ABORTED = "aborted", "Aborted"  # nothing was charged (the worker died before the gateway)

    checkout = models.ForeignKey(Checkout, on_delete=models.CASCADE, related_name="attempts")
    idempotency_key = models.CharField(max_length=200)
    payment_key = models.CharField(max_length=200, unique=True)  # the key given to payments
    gateway = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    amount = MoneyField()
    currency = CurrencyField()
    intent_id = models.CharField(max_length=100, blank=True, db_index=True)
    decline_code = models.CharField(max_length=60, blank=True)
    message = models.CharField(max_length=300, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["checkout", "idempotency_key"], name="payment_attempt_key_per_checkout"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.pk} of checkout {self.checkout_id} ({self.status})"


class CheckoutStep(models.Model):
    """The saga's log: each step of a checkout when it happened (``reserved``, ``coupon_redeemed``,
    ``priced``, ``order_created``, ``payment_started``, ``payment_<outcome>``, ``stock_committed``,
    ``confirmed``, ``released``, ``expired``, ...)."""

    checkout = models.ForeignKey(Checkout, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"checkout {self.checkout_id}: {self.name}"


# --- orders -----------------------------------------------------------------------------------------


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Waiting for payment"
        FAILED = "failed", "Failed"
        CONFIRMED = "confirmed", "Confirmed"
        PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        PARTIALLY_CANCELLED = "partially_cancelled", "Partially cancelled"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=20, unique=True)
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    checkout = models.OneToOneField(Checkout, on_delete=models.PROTECT, related_name="order")
    # Derived from the sub-orders (orders.states.order_status_for) and stored for listing and filtering.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    currency = CurrencyField()
    subtotal = MoneyField(default=ZERO)
    discount = MoneyField(default=ZERO)
    shipping = MoneyField(default=ZERO)
    tax = MoneyField(default=ZERO)
    total = MoneyField(default=ZERO)
    refunded_total = MoneyField(default=ZERO)
    address = models.JSONField(default=dict)
    shipping_method_name = models.CharField(max_length=100, blank=True)
    coupon_code = models.CharField(max_length=40, blank=True)
    payment_intent_id = models.CharField(max_length=100, blank=True)
    payment_gateway = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["buyer", "-created_at"], name="order_buyer_recent")]

    def __str__(self) -> str:
        return self.number


class SubOrder(models.Model):
    """One seller's part of an order, with its own fulfilment lifecycle (orders.states)."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Waiting for payment"
        FAILED = "failed", "Failed"
        CONFIRMED = "confirmed", "Confirmed"
        PROCESSING = "processing", "Processing"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="sub_orders")
    seller = models.ForeignKey("sellers.Seller", on_delete=models.PROTECT, related_name="sub_orders")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    currency = CurrencyField()
    subtotal = MoneyField(default=ZERO)
    discount = MoneyField(default=ZERO)
    shipping = MoneyField(default=ZERO)
    tax = MoneyField(default=ZERO)
    total = MoneyField(default=ZERO)
    commission = MoneyField(default=ZERO)
    refunded_total = MoneyField(default=ZERO)
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["order", "seller"], name="sub_order_one_per_seller")]
        indexes = [models.Index(fields=["seller", "-created_at"], name="sub_order_seller_recent")]

    def __str__(self) -> str:
        return f"{self.order.number}-{self.pk}"


class OrderLine(models.Model):
    sub_order = models.ForeignKey(SubOrder, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.SET_NULL, null=True, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.SET_NULL, null=True, related_name="+")
    sku = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    unit_price = MoneyField()
    currency = CurrencyField()
    subtotal = MoneyField()
    discount = MoneyField(default=ZERO)
    shipping = MoneyField(default=ZERO)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0"))
    tax = MoneyField(default=ZERO)
    total = MoneyField()
    commission_rate = models.DecimalField(max_digits=5, decimal_places=4)
    commission_amount = MoneyField()

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="order_line_quantity")]

    def __str__(self) -> str:
        return f"{self.sku} x{self.quantity}"


class Return(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        REFUNDED = "refunded", "Refunded"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    sub_order = models.ForeignKey(SubOrder, on_delete=models.CASCADE, related_name="returns")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=500, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)
    amount = MoneyField(default=ZERO)  # the stored amounts of the returned units: what approval refunds
    commission = MoneyField(default=ZERO)
    currency = CurrencyField()
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"return {self.pk} of {self.order.number}"


class ReturnLine(models.Model):
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    amount = MoneyField()
    commission = MoneyField(default=ZERO)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="return_line_quantity")]

    def __str__(self) -> str:
        return f"{self.order_line.sku} x{self.quantity}"


class OrderRefund(models.Model):
    """Money given back for a cancelled sub-order or an approved return. Stored (``pending``) before
    the gateway is called, under an idempotency key, so a retry refunds once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    sub_order = models.ForeignKey(SubOrder, on_delete=models.CASCADE, related_name="refunds")
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, null=True, blank=True, related_name="refunds")
    amount = MoneyField()
    commission = MoneyField(default=ZERO)
    currency = CurrencyField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    payment_refund_id = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="order_refund_positive")]

    def __str__(self) -> str:
        return f"refund {self.amount} {self.currency} of {self.order.number}"


class OrderEvent(models.Model):
    """A transition of an order, a sub-order or a return: who, when, from, to (the buyer's timeline)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    sub_order = models.ForeignKey(SubOrder, on_delete=models.CASCADE, null=True, blank=True, related_name="events")
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, null=True, blank=True, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} -> {self.to_status}"
