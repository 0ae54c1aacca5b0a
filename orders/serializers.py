"""Representations of the checkout and order API (API.md, "Checkout and orders"). Money is a
decimal string beside its ``currency``; card data never appears anywhere here."""

from __future__ import annotations

from rest_framework import serializers

from orders.models import Checkout, CheckoutLine, CheckoutPackage, Order, OrderEvent, OrderLine, Return, SubOrder

MONEY = {"max_digits": 12, "decimal_places": 2}


class AddressInputSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=150)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    postal_code = serializers.CharField(max_length=20)
    country = serializers.CharField(min_length=2, max_length=2)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class CheckoutStartSerializer(serializers.Serializer):
    address_id = serializers.IntegerField(required=False, min_value=1)
    address = AddressInputSerializer(required=False)
    shipping_method = serializers.CharField(max_length=40)
    coupon = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if "address_id" in attrs and "address" in attrs:
            raise serializers.ValidationError({"address": ["Give address_id or address, not both."]})
        return attrs


class CheckoutPaySerializer(serializers.Serializer):
    gateway = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    # The message never echoes the value: a card number posted here must not come back in the answer.
    payment_token = serializers.CharField(
        max_length=255,
        trim_whitespace=False,
        error_messages={"max_length": "A payment token is at most 255 characters."},
    )


class ShippingMethodSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.CharField()
    price = serializers.DecimalField(source="base_price", **MONEY)
    price_per_kg = serializers.DecimalField(**MONEY)
    free_over = serializers.DecimalField(allow_null=True, **MONEY)
    currency = serializers.CharField()


class CheckoutLineSerializer(serializers.ModelSerializer):
    seller = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = CheckoutLine
        fields = [
            "sku",
            "title",
            "seller",
            "quantity",
            "unit_price",
            "subtotal",
            "discount",
            "shipping",
            "tax",
            "total",
            "currency",
        ]


class CheckoutPackageSerializer(serializers.ModelSerializer):
    seller = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    seller_name = serializers.CharField(source="seller.store_name", read_only=True)

    class Meta:
        model = CheckoutPackage
        fields = ["seller", "seller_name", "weight_grams", "subtotal", "discount", "shipping", "tax", "total"]


class CheckoutSerializer(serializers.ModelSerializer):
    lines = CheckoutLineSerializer(many=True, read_only=True)
    packages = CheckoutPackageSerializer(many=True, read_only=True)
    shipping_method = serializers.SlugRelatedField(slug_field="code", read_only=True)
    coupon = serializers.CharField(source="coupon_code", read_only=True)

    class Meta:
        model = Checkout
        fields = [
            "id",
            "status",
            "expires_at",
            "address",
            "shipping_method",
            "coupon",
            "lines",
            "packages",
            "subtotal",
            "discount",
            "shipping",
            "tax",
            "total",
            "currency",
            "price_changes",
        ]


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = [
            "sku",
            "title",
            "quantity",
            "unit_price",
            "subtotal",
            "discount",
            "shipping",
            "tax",
            "total",
            "currency",
        ]


class SubOrderSerializer(serializers.ModelSerializer):
    seller = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    seller_name = serializers.CharField(source="seller.store_name", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = SubOrder
        fields = [
            "id",
            "seller",
            "seller_name",
            "status",
            "subtotal",
            "discount",
            "shipping",
            "tax",
            "total",
            "refunded_total",
            "currency",
            "carrier",
            "tracking_number",
            "shipped_at",
            "delivered_at",
            "lines",
        ]


class OrderEventSerializer(serializers.ModelSerializer):
    status = serializers.CharField(source="to_status")
    sub_order = serializers.PrimaryKeyRelatedField(read_only=True)
    return_id = serializers.PrimaryKeyRelatedField(source="return_request", read_only=True)

    class Meta:
        model = OrderEvent
        fields = ["status", "from_status", "at", "sub_order", "return_id", "note"]


class ReturnLineOutSerializer(serializers.Serializer):
    sku = serializers.CharField(source="order_line.sku")
    title = serializers.CharField(source="order_line.title")
    quantity = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)


class ReturnSerializer(serializers.ModelSerializer):
    lines = ReturnLineOutSerializer(many=True, read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True)

    class Meta:
        model = Return
        fields = [
            "id",
            "order_number",
            "sub_order",
            "status",
            "reason",
            "rejection_reason",
            "amount",
            "currency",
            "lines",
            "created_at",
            "decided_at",
            "refunded_at",
        ]


class OrderSerializer(serializers.ModelSerializer):
    sub_orders = SubOrderSerializer(many=True, read_only=True)
    events = OrderEventSerializer(many=True, read_only=True)
    returns = ReturnSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "subtotal",
            "discount",
            "shipping",
            "tax",
            "total",
            "refunded_total",
            "currency",
            "address",
            "shipping_method_name",
            "coupon_code",
            "created_at",
            "confirmed_at",
            "sub_orders",
            "events",
            "returns",
        ]


class ReturnLineInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1)


class ReturnRequestSerializer(serializers.Serializer):
    lines = ReturnLineInSerializer(many=True, allow_empty=False)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
