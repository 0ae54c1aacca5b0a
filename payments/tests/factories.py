"""Factories of the payments app, for other apps' tests too (a succeeded sandbox payment to refund)."""

from __future__ import annotations

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from payments.models import PaymentIntent


class PaymentIntentFactory(DjangoModelFactory):
    """A stored intent. For a payment the sandbox really holds, call ``payments.services.payment_charge``."""

    class Meta:
        model = PaymentIntent

    idempotency_key = factory.Sequence(lambda n: f"test-payment-{n}")
    reference = factory.Sequence(lambda n: f"ORDER-{n:06d}")
    amount = Decimal("25.00")
    currency = "EUR"
    payment_token = "tok_visa"
    gateway = "sandbox"
    status = PaymentIntent.Status.PENDING
