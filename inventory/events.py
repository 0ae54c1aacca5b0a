"""The events the inventory app publishes on the outbox (shop.core.events), with their payloads."""

# A SKU's stock changed. Payload: sku, variant_id, on_hand, reserved, available.
STOCK_CHANGED = "inventory.stock_changed"

# A SKU's available units crossed from above its threshold to at or below it. Published once per
# crossing (``Stock.low_stock_alerted``), re-armed when availability rises above the threshold again.
# Payload: sku, variant_id, seller_id, available, threshold.
LOW_STOCK = "inventory.low_stock"
