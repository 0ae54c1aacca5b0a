import pytest
from django.core import mail

from inventory import services as inventory_services
from inventory.tests.factories import StockFactory

pytestmark = pytest.mark.django_db


def test_seller_is_emailed_once_per_low_stock_crossing(django_capture_on_commit_callbacks):
    stock = StockFactory(on_hand=10, low_stock_threshold=3)
    seller = stock.variant.product.seller

    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.stock_adjust(sku=stock.sku, delta=-7, reason="sold at the market")  # 3 left: crossing
    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.stock_adjust(sku=stock.sku, delta=-1, reason="damaged")  # still low: no new email

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [seller.user.email]
    assert stock.sku in message.subject
    assert "3 units can still be bought" in message.body
    assert "/seller/inventory/stock/" in message.body
    [(html, _)] = message.alternatives
    assert "3 units can still be bought" in html

    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.stock_adjust(sku=stock.sku, delta=10, reason="delivery")  # re-armed
    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.stock_adjust(sku=stock.sku, delta=-10, reason="sold")  # crosses again
    assert len(mail.outbox) == 2
