"""The shipping methods a new shop offers; staff change prices or add methods in the admin."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    {
        "code": "standard",
        "name": "Standard delivery",
        "description": "3-5 working days",
        "kind": "flat",
        "base_price": Decimal("4.90"),
        "price_per_kg": Decimal("0.00"),
        "free_over": Decimal("50.00"),
        "position": 0,
    },
    {
        "code": "express",
        "name": "Express delivery",
        "description": "Next working day",
        "kind": "weight",
        "base_price": Decimal("9.90"),
        "price_per_kg": Decimal("1.50"),
        "free_over": None,
        "position": 1,
    },
]


def add_methods(apps, schema_editor):
    ShippingMethod = apps.get_model("orders", "ShippingMethod")
    for fields in DEFAULTS:
        ShippingMethod.objects.get_or_create(code=fields["code"], defaults={**fields, "currency": "EUR"})


def remove_methods(apps, schema_editor):
    ShippingMethod = apps.get_model("orders", "ShippingMethod")
    ShippingMethod.objects.filter(code__in=[fields["code"] for fields in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(add_methods, remove_methods)]
