"""Stock per SKU. ``available = on_hand - reserved``; the database refuses ``reserved > on_hand``
and negative numbers, so no code path can oversell even if it tries."""

from django.conf import settings
from django.db import models


class Stock(models.Model):
    variant = models.OneToOneField("catalog.Variant", on_delete=models.CASCADE, related_name="stock")
    # The SKU is copied here so reservations can lock rows in SKU order without a join.
    sku = models.CharField(max_length=64, unique=True)
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    low_stock_threshold = models.PositiveIntegerField(default=5)
    # Set when the "inventory.low_stock" event for the current dip is published, cleared when
    # availability rises above the threshold again: one alert per crossing, not one per sale.
    low_stock_alerted = models.BooleanField(default=False, db_default=False)
    # Flash-sale mode: buyers are admitted through a Redis token bucket before they reach the
    # database (inventory.services.flash_sale_open / flash_sale_close); the database stays the authority.
    # Both flags have database defaults too, so bulk loads (COPY in backoffice.seeding) may leave them out.
    flash_sale = models.BooleanField(default=False, db_default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(
                condition=models.Q(reserved__lte=models.F("on_hand")), name="stock_reserved_within_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku}: {self.available} available"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(models.Model):
    """Every change of on_hand: who, when, by how much, and why."""

    stock = models.ForeignKey(Stock, on_delete=models.CASCADE, related_name="movements")
    delta = models.IntegerField()
    on_hand_after = models.IntegerField()
    reason = models.CharField(max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.stock.sku} {self.delta:+d} ({self.reason})"


class Reservation(models.Model):
    """Stock held for one checkout until ``expires_at``: every line of it or none.

    ``held`` is the only state in which its units count in ``Stock.reserved``; ``released`` (the
    buyer gave up), ``expired`` (the TTL ran out) and ``committed`` (paid: the units left on_hand)
    are final, except that a lapsed reservation can still be committed if the stock is there.
    """

    class Status(models.TextChoices):
        HELD = "held", "held"
        RELEASED = "released", "released"
        EXPIRED = "expired", "expired"
        COMMITTED = "committed", "committed"

    # The caller's idempotency key ("checkout:<id>"): creating twice with one key returns the first.
    key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # The expiry job's query: a small partial index, since almost every reservation is final.
            models.Index(
                fields=["expires_at"], condition=models.Q(status="held"), name="inventory_reservation_held_exp"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class ReservationLine(models.Model):
    """The units of one SKU held by a reservation (one line per SKU: quantities are summed first)."""

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="reservation_lines")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="reservation_line_quantity_positive"),
            models.UniqueConstraint(fields=["reservation", "stock"], name="reservation_line_one_per_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} x{self.quantity}"
