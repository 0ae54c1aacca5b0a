"""Payments: intents (one per payment, stored before any gateway call), every gateway call as an
attempt, refunds, transfers (seller payouts), received webhook events, and the sandbox gateway's own
ledger. Amounts are ``Decimal(12, 2)`` with a currency. No column ever holds card data: tokens that
look like a card number are refused before anything is stored (payments.redaction)."""

from django.db import models

from shop.core.money import CurrencyField, MoneyField


class PaymentIntent(models.Model):
    """One payment of ``amount`` for ``reference`` (an order or checkout), unique by idempotency key.

    ``pending``: stored, the gateway not called yet or the call still running. ``processing``: the
    gateway took it and will settle it later (webhook or reconciliation). ``unknown``: a call timed
    out, so it may or may not have charged; only reconciliation resolves it. ``failed``: no gateway
    took it (all errored, unreachable or skipped), nothing was charged.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        UNKNOWN = "unknown"
        SUCCEEDED = "succeeded"
        DECLINED = "declined"
        FAILED = "failed"

    class Method(models.TextChoices):
        CARD = "card"
        WALLET = "wallet"
        BNPL = "bnpl"

    idempotency_key = models.CharField(max_length=200, unique=True)
    reference = models.CharField(max_length=100, db_index=True)
    amount = MoneyField()
    currency = CurrencyField()
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.CARD)
    # The gateway's token for the payment method (never card data: refused before saving). Kept
    # because a status lookup replays the original request, which must carry the same parameters.
    payment_token = models.CharField(max_length=255)
    gateway = models.CharField(max_length=30, blank=True)
    gateway_reference = models.CharField(max_length=100, blank=True, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    decline_code = models.CharField(max_length=60, blank=True)
    message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_intent_amount_positive")]
        indexes = [
            # the reconciliation scan reads only what is still unsettled
            models.Index(
                fields=["updated_at"],
                name="payment_intent_unsettled_idx",
                condition=models.Q(status__in=["pending", "processing", "unknown"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount} {self.currency} {self.status}"


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    intent = models.ForeignKey(PaymentIntent, on_delete=models.PROTECT, related_name="refunds")
    idempotency_key = models.CharField(max_length=200, unique=True)
    amount = MoneyField()
    currency = CurrencyField()
    reason = models.CharField(max_length=200, blank=True)
    gateway = models.CharField(max_length=30)
    gateway_reference = models.CharField(max_length=100, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"refund {self.amount} {self.currency} of {self.intent_id} ({self.status})"


class Transfer(models.Model):
    """Money sent to a seller's payout account (``destination``, the gateway's account id)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    idempotency_key = models.CharField(max_length=200, unique=True)
    destination = models.CharField(max_length=100)
    amount = MoneyField()
    currency = CurrencyField()
    gateway = models.CharField(max_length=30)
    gateway_reference = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="transfer_amount_positive")]

    def __str__(self) -> str:
        return f"transfer {self.amount} {self.currency} to {self.destination} ({self.status})"


class PaymentAttempt(models.Model):
    """One call to a gateway, written before the call (``started``) and completed after it, so a
    worker that died mid-call leaves a trace. Messages are redacted; tokens are never logged here."""

    class Operation(models.TextChoices):
        CHARGE = "charge"
        LOOKUP = "lookup"
        REFUND = "refund"
        TRANSFER = "transfer"

    class Outcome(models.TextChoices):
        STARTED = "started"
        SUCCEEDED = "succeeded"
        DECLINED = "declined"
        PROCESSING = "processing"
        NOT_FOUND = "not_found"
        ERROR = "error"  # the gateway failed or was unreachable: nothing happened there
        TIMEOUT = "timeout"  # the request may have reached the gateway: outcome unknown
        FAILED = "failed"

    intent = models.ForeignKey(PaymentIntent, on_delete=models.CASCADE, null=True, blank=True, related_name="attempts")
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, null=True, blank=True, related_name="attempts")
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, null=True, blank=True, related_name="attempts")
    gateway = models.CharField(max_length=30)
    operation = models.CharField(max_length=10, choices=Operation.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.STARTED)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_class = models.CharField(max_length=100, blank=True)
    message = models.CharField(max_length=255, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["gateway", "at"], name="payment_attempt_gateway_idx")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.operation} {self.outcome}"


class WebhookEvent(models.Model):
    """A gateway's webhook event, recorded once: a redelivered event id is acknowledged and ignored."""

    gateway = models.CharField(max_length=30)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["gateway", "event_id"], name="webhook_event_once")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.type} {self.event_id}"


class SandboxOperation(models.Model):
    """The sandbox gateway's own ledger, as a remote gateway keeps one: every charge, refund and
    transfer it performed, keyed by the caller's idempotency key, so a replay answers the first result
    and a status lookup by key works. Written only by payments.gateways.sandbox."""

    kind = models.CharField(max_length=10)  # charge, refund, transfer
    idempotency_key = models.CharField(max_length=200)
    reference = models.CharField(max_length=40, unique=True)  # the sandbox's id: sb_ch_..., sb_re_..., sb_tr_...
    parent = models.CharField(max_length=40, blank=True)  # the charge a refund refunds
    token = models.CharField(max_length=255, blank=True)
    destination = models.CharField(max_length=100, blank=True)
    amount = MoneyField()
    currency = CurrencyField()
    status = models.CharField(max_length=12)  # succeeded, declined
    decline_code = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "idempotency_key"], name="sandbox_operation_once")]

    def __str__(self) -> str:
        return f"sandbox {self.kind} {self.reference} {self.status}"
