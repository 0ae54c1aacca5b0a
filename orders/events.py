"""The events the orders app publishes on the outbox (shop.core.events), with their payloads."""

# An order was paid. Payload: order_id, number, buyer_id.
ORDER_CONFIRMED = "order.confirmed"

# An order's payment never came (the checkout expired or was abandoned after a declined payment).
# Payload: order_id, number, buyer_id.
ORDER_FAILED = "order.failed"

# A sub-order moved (confirmed, processing, shipped, delivered, cancelled). Payload: sub_order_id,
# order_id, number, seller_id, buyer_id, from, to.
SUB_ORDER_STATUS_CHANGED = "sub_order.status_changed"

# A return moved (requested, approved, rejected, refunded). Payload: return_id, order_id, number,
# seller_id, buyer_id, from ("" when requested), to.
RETURN_STATUS_CHANGED = "return.status_changed"

# Money went back to the buyer. Payload: refund_id, order_id, number, sub_order_id, return_id (or
# null), amount (a decimal string), currency.
REFUND_ISSUED = "refund.issued"
