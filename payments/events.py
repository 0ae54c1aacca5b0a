"""The events the payments app publishes on the outbox (shop.core.events), with their payloads."""

# A payment whose outcome was open (``unknown`` after a timeout, ``processing`` at the gateway, or a
# ``pending`` call that died) is settled by reconciliation or by a gateway's webhook. Payload:
# intent_id, reference, status ("succeeded", "declined", or "unavailable" when no gateway charged it).
PAYMENT_SETTLED = "payment.settled"
