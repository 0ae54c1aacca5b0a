"""Sellers: onboarding and verification status, the public profile, commission and payout details."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


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
