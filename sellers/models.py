"""Sellers: onboarding and verification status, the public profile, commission and payout details."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from shop.core.money import CurrencyField, MoneyField


class Seller(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SUSPENDED = "suspended", "Suspended"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="seller")
    store_name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    description = models.TextField(blank=True)
    return_policy = models.TextField(blank=True)
    logo = models.ImageField(upload_to="sellers/logos/", blank=True)
    commission_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Overrides the category and platform rates when set (0.1200 is 12%).",
    )
    # Payout details: the account holder and a reference at the payment provider. The full bank
    # account number is held by the provider, never here (nor in logs); only its last four digits.
    payout_account_holder = models.CharField(max_length=150, blank=True)
    payout_account_last4 = models.CharField(max_length=4, blank=True)
    payout_provider_ref = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["store_name"]

    def __str__(self) -> str:
        return self.store_name

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class StoreProfile(Seller):
    """The seller as its owner sees it in the Seller Centre: "Store profile", not "Seller"."""

    class Meta:
        proxy = True
        verbose_name = "store profile"


# --- commission ledger and payouts ----------------------------------------------------------------


class LedgerEntry(models.Model):
    """One movement of what the platform owes a seller: credits (+) and debits (-).

    Orders write a ``sale`` (+gross) and its ``commission`` (-) when a sub-order is paid, a
    ``refund`` (-gross) and its ``commission_reversal`` (+) when lines are refunded; a ``payout``
    (-amount) is written when money reaches the seller. The seller's balance is the sum. Entries are
    never changed or deleted; ``payout`` is set while a payout carries the entry.
    """

    class Kind(models.TextChoices):
        SALE = "sale", "Sale"
        COMMISSION = "commission", "Commission"
        REFUND = "refund", "Refund"
        COMMISSION_REVERSAL = "commission_reversal", "Commission reversal"
        PAYOUT = "payout", "Payout"

    CREDIT_KINDS = (Kind.SALE, Kind.COMMISSION_REVERSAL)
    DEBIT_KINDS = (Kind.COMMISSION, Kind.REFUND, Kind.PAYOUT)

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    amount = MoneyField(help_text="Credit to the seller (+) or debit (-).")
    currency = CurrencyField()
    reference = models.CharField(max_length=100, help_text="What it is for: a sub-order number, a refund, a payout.")
    # "<kind>:<seller>:<reference>": recording the same sale or refund twice writes it once
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    payout = models.ForeignKey(
        "sellers.Payout", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=["sale", "commission_reversal"], amount__gt=0)
                    | models.Q(kind__in=["commission", "refund", "payout"], amount__lt=0)
                ),
                name="ledger_entry_sign_fits_kind",
            ),
        ]
        indexes = [
            # the payout run reads each seller's entries not yet paid out
            models.Index(
                fields=["seller", "created_at"],
                name="ledger_unpaid_idx",
                condition=models.Q(payout__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+.2f} {self.currency} ({self.reference})"


class Payout(models.Model):
    """The seller's balance of a period, sent to its payout account through payments.transfer_create.

    ``pending`` until the transfer's outcome is known (a transfer with no answer stays pending and the
    next run asks again with the same key), then ``paid`` (a ``payout`` ledger entry debits the
    balance) or ``failed`` (its entries are freed for the next payout).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="payouts")
    amount = MoneyField()
    currency = CurrencyField()
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    # "payout:<seller>:<period_end>", also the transfer's key at the payment provider
    idempotency_key = models.CharField(max_length=200, unique=True)
    # The seller's account at the provider when the payout was made: a retry sends to the same one.
    destination = models.CharField(max_length=100)
    transfer_reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="payout_period_in_order"
            ),
        ]

    def __str__(self) -> str:
        return f"payout {self.amount:.2f} {self.currency} to {self.seller} ({self.status})"
