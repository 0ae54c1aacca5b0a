"""Forms of the checkout and order pages and of the seller admin's buttons. They check types and
lengths and put each error next to its field; the rules (stock, coupons, transitions) live in
orders.services."""

from __future__ import annotations

import uuid

from django import forms

from orders import services

NEW_ADDRESS = "new"
COUPON_MAX_LENGTH = 40


def new_key() -> str:
    """A fresh Idempotency-Key for one rendering of a form: submitting that form twice sends the
    same key, so the second submit replays the first instead of starting or charging again."""
    return uuid.uuid4().hex


class AddressStepForm(forms.Form):
    """Pick a saved address or enter a new one (saved to the account)."""

    address = forms.ChoiceField(label="Deliver to", widget=forms.RadioSelect, error_messages={
        "required": "Choose an address, or enter a new one.",
        "invalid_choice": "Choose one of your saved addresses, or enter a new one.",
    })  # fmt: skip
    full_name = forms.CharField(max_length=150, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    line1 = forms.CharField(
        label="Address line 1",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    line2 = forms.CharField(
        label="Address line 2",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    postal_code = forms.CharField(
        max_length=20, required=False, widget=forms.TextInput(attrs={"autocomplete": "postal-code"})
    )
    city = forms.CharField(
        max_length=100, required=False, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    country = forms.CharField(
        max_length=2,
        required=False,
        help_text="Two-letter code, such as DE or FR.",
        widget=forms.TextInput(attrs={"autocomplete": "country", "size": 2}),
    )
    phone = forms.CharField(max_length=32, required=False, widget=forms.TextInput(attrs={"autocomplete": "tel"}))

    NEW_ADDRESS_REQUIRED = ("full_name", "line1", "postal_code", "city", "country")
    NEW_ADDRESS_FIELDS = ("full_name", "line1", "line2", "postal_code", "city", "country", "phone")

    def __init__(self, *args, addresses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.addresses = list(addresses)
        self.fields["address"].choices = [(str(a.pk), str(a)) for a in self.addresses] + [
            (NEW_ADDRESS, "A new address")
        ]
        if not self.addresses:
            self.fields["address"].initial = NEW_ADDRESS

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("address") == NEW_ADDRESS:
            for name in self.NEW_ADDRESS_REQUIRED:
                if not (cleaned.get(name) or "").strip():
                    self.add_error(name, "This field is required for a new address.")
        return cleaned

    @property
    def is_new(self) -> bool:
        return self.cleaned_data.get("address") == NEW_ADDRESS

    def new_address(self) -> dict[str, str]:
        return {name: (self.cleaned_data.get(name) or "").strip() for name in self.NEW_ADDRESS_FIELDS}


class ShippingStepForm(forms.Form):
    shipping_method = forms.ChoiceField(
        label="Shipping method",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a shipping method.", "invalid_choice": "Choose one of the methods shown."},
    )

    def __init__(self, *args, methods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shipping_method"].choices = [(m.code, m.name) for m in methods]


class CouponForm(forms.Form):
    code = forms.CharField(
        label="Coupon code",
        max_length=COUPON_MAX_LENGTH,
        error_messages={"required": "Enter a coupon code."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class KeyedForm(forms.Form):
    """A form that carries the Idempotency-Key its page was rendered with."""

    idempotency_key = forms.CharField(max_length=services.KEY_MAX_LENGTH, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", new_key())
        super().__init__(*args, **kwargs)


class StartForm(KeyedForm):
    """ "Continue to payment": starts the checkout (reserves the stock)."""


class PayForm(KeyedForm):
    """The payment: a gateway token only (the card fields have no name and never reach the shop)."""

    payment_token = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.HiddenInput,
    )

    def clean_payment_token(self) -> str:
        token = (self.cleaned_data.get("payment_token") or "").strip()
        if not token:
            raise forms.ValidationError("Enter your card details, or choose another way to pay.")
        return token


class ReturnForm(forms.Form):
    """Units of each line of one delivered sub-order to send back, and why."""

    reason = forms.CharField(
        max_length=services.REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: tell the seller what is wrong.",
    )

    def __init__(self, *args, sub_order=None, returnable: dict[int, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sub_order = sub_order
        self.line_fields: list[tuple[object, str]] = []
        returnable = returnable or {}
        for line in sub_order.lines.all() if sub_order is not None else []:
            left = returnable.get(line.pk, 0)
            if left <= 0:
                continue
            name = f"line_{line.pk}"
            self.fields[name] = forms.IntegerField(
                label=f"{line.title} (SKU {line.sku})",
                min_value=0,
                max_value=left,
                initial=0,
                required=False,
                help_text=f"Up to {left}.",
                error_messages={
                    "max_value": f"You can return at most {left} of these.",
                    "min_value": "Enter 0 or more.",
                    "invalid": "Enter a whole number.",
                },
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
            self.line_fields.append((line, name))
        self.order_fields([*(name for _, name in self.line_fields), "reason"])

    def clean(self):
        cleaned = super().clean()
        if self.line_fields and not self.errors and not any(cleaned.get(name) for _, name in self.line_fields):
            self.add_error(self.line_fields[0][1], "Choose how many of at least one item you send back.")
        return cleaned

    def lines(self) -> list[dict]:
        return [
            {"sku": line.sku, "quantity": self.cleaned_data[name]}
            for line, name in self.line_fields
            if self.cleaned_data.get(name)
        ]

    @property
    def quantity_fields(self):
        return [self[name] for _, name in self.line_fields]


# --- the admins' buttons ------------------------------------------------------------------------------


class ShipForm(forms.Form):
    carrier = forms.CharField(max_length=services.CARRIER_MAX_LENGTH, help_text="Such as DHL, UPS or La Poste.")
    tracking_number = forms.CharField(max_length=services.TRACKING_MAX_LENGTH)


class RejectReturnForm(forms.Form):
    reason = forms.CharField(
        max_length=services.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to the buyer.",
    )
