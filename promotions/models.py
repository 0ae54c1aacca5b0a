"""Coupons and their redemptions.

A coupon is platform-wide (``seller`` empty) or one seller's (it then discounts only that seller's
lines). Its uses are counted by redemptions: a checkout *reserves* a use when it starts, so that
concurrent checkouts cannot exceed the limits, the use becomes *used* when the order is paid and is
*released* when the checkout is abandoned, expires or fails. ``Coupon.uses`` is the number of active
(reserved or used) redemptions, kept under the coupon's row lock by promotions.services.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from shop.core.money import CurrencyField, MoneyField

CODE_MAX_LENGTH = 40


class Coupon(models.Model):
    class Kind(models.TextChoices):
        PERCENT = "percent", "Percentage off"
        FIXED = "fixed", "Fixed amount off"
        FREE_SHIPPING = "free_shipping", "Free shipping"

    # Stored upper-case (a CHECK holds it), so "welcome10" and "WELCOME10" are one code.
    code = models.CharField(max_length=CODE_MAX_LENGTH, unique=True)
    description = models.CharField(max_length=200, blank=True, help_text="Shown to staff and to the seller only.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = MoneyField(
        default=Decimal("0"),
        help_text="Percent off (10.00 is 10%) or the amount off; 0 for free shipping.",
    )
    currency = CurrencyField(help_text="The currency of the amount off and of the minimum subtotal.")
    min_subtotal = MoneyField(
        default=Decimal("0"), help_text="The subtotal of the lines the coupon applies to must reach this."
    )
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: valid until deactivated.")
    seller = models.ForeignKey(
        "sellers.Seller",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coupons",
        help_text="Empty: platform-wide. Otherwise the coupon applies to this seller's lines only.",
    )
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    max_uses_per_customer = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    uses = models.PositiveIntegerField(default=0, editable=False, help_text="Reserved and used redemptions.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code=Upper("code")),
                name="coupon_code_upper_case",
                violation_error_message="A coupon code is stored in capitals.",
            ),
            models.CheckConstraint(
                condition=~models.Q(code=""),
                name="coupon_code_not_empty",
                violation_error_message="A coupon needs a code.",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="percent", value__gt=0, value__lte=100)
                    | models.Q(kind="fixed", value__gt=0)
                    | models.Q(kind="free_shipping", value=0)
                ),
                name="coupon_value_fits_kind",
                violation_error_message=(
                    "A percentage is more than 0 and at most 100, an amount off is more than 0, "
                    "free shipping has no value."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(min_subtotal__gte=0),
                name="coupon_min_subtotal_not_negative",
                violation_error_message="The minimum subtotal cannot be negative.",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")),
                name="coupon_ends_after_start",
                violation_error_message="A coupon ends after it starts.",
            ),
            models.CheckConstraint(
                condition=models.Q(max_uses__isnull=True) | models.Q(max_uses__gt=0),
                name="coupon_max_uses_positive",
                violation_error_message="The limit of uses is at least 1 (empty for no limit).",
            ),
            models.CheckConstraint(
                condition=models.Q(max_uses_per_customer__isnull=True) | models.Q(max_uses_per_customer__gt=0),
                name="coupon_max_uses_per_customer_positive",
                violation_error_message="The limit per customer is at least 1 (empty for no limit).",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_platform_wide(self) -> bool:
        return self.seller_id is None

    def describe(self) -> str:
        """What the coupon gives, in words: "10% off", "5.00 EUR off", "Free shipping"."""
        if self.kind == self.Kind.PERCENT:
            return f"{self.value.normalize():f}% off"
        if self.kind == self.Kind.FIXED:
            return f"{self.value:.2f} {self.currency} off"
        return "Free shipping"


class CouponRedemption(models.Model):
    """One use of a coupon by one checkout (``reference``): reserved, then used or released."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        USED = "used", "Used"
        RELEASED = "released", "Released"

    ACTIVE_STATUSES = (Status.RESERVED, Status.USED)  # the ones that count against the limits

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    # Kept when the account is deleted: the use still counts against the coupon's total.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reference = models.CharField(max_length=100, help_text="The checkout that holds this use.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RESERVED)
    # The quote given when the use was reserved, so that a retry returns it unchanged:
    # {"discount_by_seller": {"<seller id>": "<amount>"}, "free_shipping_sellers": [<seller id>, ...]}
    quote = models.JSONField(default=dict)
    discount_total = MoneyField(default=Decimal("0"))
    currency = CurrencyField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # a checkout holds at most one coupon at a time; released uses stay as history
            models.UniqueConstraint(
                fields=["reference"],
                condition=models.Q(status__in=["reserved", "used"]),
                name="coupon_redemption_one_active_per_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["coupon", "user", "status"], name="coupon_redemption_customer_idx"),
            models.Index(fields=["reference"], name="coupon_redemption_ref_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.coupon.code} for {self.reference} ({self.status})"
