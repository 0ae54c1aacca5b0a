from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from catalog.tests.factories import VariantFactory
from inventory.models import Stock


class StockFactory(DjangoModelFactory):
    class Meta:
        model = Stock

    variant = factory.SubFactory(VariantFactory)
    sku = factory.LazyAttribute(lambda stock: stock.variant.sku)
    on_hand = 10
    reserved = 0
