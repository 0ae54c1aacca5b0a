"""Models of the shared kernel: the transactional outbox."""

import uuid

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it announces.

    The relay delivers it after commit; ``delivered_at`` is set once every handler has run.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # the re-delivery scan reads only what is still pending
            models.Index(
                fields=["next_attempt_at", "created_at"],
                name="outbox_pending_idx",
                condition=models.Q(delivered_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id}"


class HandledEvent(models.Model):
    """That ``handler`` has applied ``event``: written in the handler's own transaction, so a second
    delivery of the same event finds it and skips the handler."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="handled")
    handler = models.CharField(max_length=200)
    handled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "handler"], name="handled_event_once")]

    def __str__(self) -> str:
        return f"{self.handler} handled {self.event_id}"
