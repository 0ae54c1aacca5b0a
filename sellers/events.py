"""The events the sellers app publishes on the outbox (shop.core.events).

``sellers.seller_status_changed`` ``{"seller_id", "slug", "status", "previous_status"}``: a seller was
approved, rejected, suspended or reinstated. Listeners: the search index and page caches drop or
restore the seller's products; notifications may tell staff.
"""

SELLER_STATUS_CHANGED = "sellers.seller_status_changed"
