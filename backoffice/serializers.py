"""Serializers of the seller API: types and sizes only; the rules live in catalog.services,
inventory.services and backoffice.services."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from catalog import services as catalog_services
from catalog.models import Product
from inventory import services as inventory_services
from inventory.models import Stock

MAX_PRICE = catalog_services.MAX_PRICE
CATEGORY_REFERENCE_MAX_LENGTH = 400  # a category's path (Category.path)
REASON_MAX_LENGTH = inventory_services.REASON_MAX_LENGTH


class StrictCharField(serializers.CharField):
    """DRF's CharField turns numbers into strings; a client that sends ``"title": 123`` has a bug
    worth telling it about, so only JSON strings pass."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class RejectUnknownFieldsMixin:
    """A misspelt field ("titel") is an error, not silently ignored: a PATCH would answer 200 and
    change nothing."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(name)[:100] for name in set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


def _price_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_PRICE, **kwargs
    )


class SellerVariantWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    sku = StrictCharField(max_length=catalog_services.SKU_MAX_LENGTH)
    price = _price_field(help_text='A decimal string such as "19.99" (a JSON number is accepted).')
    compare_at_price = _price_field(required=False, allow_null=True, help_text="The former price, struck through.")
    currency = StrictCharField(min_length=3, max_length=3, required=False, help_text="ISO 4217, such as EUR.")
    stock = serializers.IntegerField(
        min_value=0,
        max_value=inventory_services.MAX_ON_HAND,
        required=False,
        help_text="Units on hand: the initial stock on create; in a PATCH, sets the units on hand.",
    )
    attributes = serializers.DictField(required=False, help_text='The buyer\'s choices, such as {"size": "M"}.')
    weight_grams = serializers.IntegerField(min_value=0, max_value=catalog_services.MAX_WEIGHT_GRAMS, required=False)

    def validate(self, attrs):
        # a PATCH makes every field optional, but a variant is still named by its SKU
        if "sku" not in attrs:
            raise serializers.ValidationError({"sku": ["Name the variant by its SKU."]})
        return attrs


class SellerProductCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    title = StrictCharField(max_length=catalog_services.TITLE_MAX_LENGTH)
    description = StrictCharField(
        max_length=catalog_services.DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True, trim_whitespace=False
    )
    category = StrictCharField(
        max_length=CATEGORY_REFERENCE_MAX_LENGTH,
        help_text="The category's slug, or its path where the slug is not unique (fashion/accessories/bags).",
    )
    brand = StrictCharField(
        max_length=catalog_services.BRAND_MAX_LENGTH,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="The brand's name, created if new.",
    )
    attributes = serializers.DictField(required=False, help_text="Checked against the category's attribute schema.")
    status = serializers.ChoiceField(
        choices=[Product.Status.ACTIVE, Product.Status.DRAFT],
        required=False,
        help_text="active (the default: visible and searchable at once) or draft.",
    )
    variants = serializers.ListField(
        child=SellerVariantWriteSerializer(), min_length=1, max_length=catalog_services.MAX_VARIANTS
    )


class SellerProductUpdateSerializer(SellerProductCreateSerializer):
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False)
    variants = serializers.ListField(
        child=SellerVariantWriteSerializer(),
        max_length=catalog_services.MAX_VARIANTS,
        help_text="Variants named by SKU: a stored SKU changes the fields given, a new one adds a variant.",
    )


class SellerStockSerializer(serializers.Serializer):
    sku = serializers.CharField(read_only=True)
    on_hand = serializers.IntegerField(read_only=True)
    reserved = serializers.IntegerField(read_only=True)
    available = serializers.IntegerField(read_only=True)


class SellerStockLevelsSerializer(serializers.Serializer):
    on_hand = serializers.IntegerField(read_only=True)
    reserved = serializers.IntegerField(read_only=True)
    available = serializers.IntegerField(read_only=True)


class SellerStockWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    on_hand = serializers.IntegerField(min_value=0, max_value=inventory_services.MAX_ON_HAND, required=False)
    delta = serializers.IntegerField(
        min_value=-inventory_services.MAX_ON_HAND, max_value=inventory_services.MAX_ON_HAND, required=False
    )
    reason = StrictCharField(max_length=REASON_MAX_LENGTH, required=False)

    def validate(self, attrs):
        if ("on_hand" in attrs) == ("delta" in attrs):
            raise serializers.ValidationError("Send either on_hand (the new count) or delta with a reason.")
        if "delta" in attrs and not attrs.get("reason"):
            raise serializers.ValidationError({"reason": ["Say why the stock changes (recount, damaged, delivery)."]})
        return attrs


class SellerVariantSerializer(serializers.Serializer):
    sku = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    compare_at_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    attributes = serializers.DictField()
    weight_grams = serializers.IntegerField()
    is_active = serializers.BooleanField()
    stock = serializers.SerializerMethodField()

    def get_stock(self, variant) -> dict:
        stock = self.context.get("stock", {}).get(variant.pk) or Stock(on_hand=0, reserved=0)
        return SellerStockLevelsSerializer(stock).data


class SellerProductSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    category = serializers.CharField(source="category.slug")
    category_path = serializers.CharField(source="category.path")
    brand = serializers.CharField(source="brand.name", allow_null=True, default=None)
    attributes = serializers.DictField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    variants = SellerVariantSerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# --- sub-orders and returns (orders) ------------------------------------------------------------


class SellerOrderLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    title = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    commission_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    commission_amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class SellerSubOrderSerializer(serializers.Serializer):
    """A seller's part of an order: what to pack and where to send it."""

    id = serializers.IntegerField()
    order_number = serializers.CharField(source="order.number")
    status = serializers.CharField()
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount = serializers.DecimalField(max_digits=12, decimal_places=2)
    shipping = serializers.DecimalField(max_digits=12, decimal_places=2)
    tax = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    commission = serializers.DecimalField(max_digits=12, decimal_places=2)
    refunded_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    address = serializers.JSONField(source="order.address")
    shipping_method = serializers.CharField(source="order.shipping_method_name")
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    created_at = serializers.DateTimeField()
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField()
    lines = SellerOrderLineSerializer(many=True)


class SellerShipSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    carrier = StrictCharField(max_length=60)
    tracking_number = StrictCharField(max_length=100)


class SellerReturnLineSerializer(serializers.Serializer):
    sku = serializers.CharField(source="order_line.sku")
    title = serializers.CharField(source="order_line.title")
    quantity = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class SellerReturnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order_number = serializers.CharField(source="order.number")
    sub_order = serializers.IntegerField(source="sub_order_id")
    status = serializers.CharField()
    reason = serializers.CharField()
    rejection_reason = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField()
    refunded_at = serializers.DateTimeField()
    lines = SellerReturnLineSerializer(many=True)


class SellerRejectSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    reason = StrictCharField(max_length=500)


class SellerApproveReturnSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    restock = serializers.BooleanField(
        required=False, default=False, help_text="The goods are back and can be sold again: put their units on hand."
    )
