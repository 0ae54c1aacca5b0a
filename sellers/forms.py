"""Forms of the sellers app: the application page and the profile a seller edits in the seller admin.

They check types, sizes and formats; the rules live in sellers.services.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from . import services
from .models import Seller

LOGO_MAX_BYTES = 2 * 1024 * 1024  # a logo is shown small; 2 MB is plenty for a sharp one
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


def normalize_iban(value: str) -> str:
    return "".join((value or "").split()).upper()


def validate_iban(value: str) -> None:
    """ISO 13616: two letters, two check digits, then the account; the mod-97 check catches a
    mistyped digit. The message never repeats the number."""
    iban = normalize_iban(value)
    if not _IBAN_SHAPE.fullmatch(iban):
        raise ValidationError("Enter an IBAN: two letters, two digits, then up to 30 letters and digits.")
    rearranged = iban[4:] + iban[:4]
    if int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 != 1:
        raise ValidationError("This IBAN is not valid: check it for a mistyped character.")


def validate_logo(upload) -> None:
    size = getattr(upload, "size", None)
    if size is not None and size > LOGO_MAX_BYTES:
        raise ValidationError(f"This file is {size / 1024 / 1024:.1f} MB; a logo can be at most 2 MB.")


class WriteOnlyTextInput(forms.TextInput):
    """A text box that never shows a value back, so a bank account number typed once is not
    rendered into the next page (a re-displayed form, the browser's cache)."""

    def format_value(self, value):
        return None


def _iban_field() -> forms.CharField:
    return forms.CharField(
        label="IBAN",
        required=False,
        max_length=42,  # 34 characters and the spaces people type between groups
        validators=[validate_iban],
        widget=WriteOnlyTextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=(
            "To change the account we pay you into. We pass it to our payment provider and keep only its last"
            " four characters."
        ),
    )


class SellerApplicationForm(forms.Form):
    store_name = forms.CharField(
        max_length=services.STORE_NAME_MAX_LENGTH,
        help_text="The name buyers see on your products and your store page.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    description = forms.CharField(
        label="About your store",
        max_length=services.DESCRIPTION_MAX_LENGTH,
        required=False,
        help_text="What you sell and where you ship from. You can change it later.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class SellerProfileForm(forms.ModelForm):
    """The seller's own profile in the seller admin. Status, slug and commission are not in it."""

    iban = _iban_field()

    class Meta:
        model = Seller
        fields = ["store_name", "logo", "description", "return_policy", "payout_account_holder"]

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if isinstance(logo, UploadedFile):  # a new upload, not the stored file
            validate_logo(logo)
        return logo

    def clean_iban(self) -> str:
        return normalize_iban(self.cleaned_data.get("iban", ""))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("iban") and not (cleaned.get("payout_account_holder") or "").strip():
            self.add_error("payout_account_holder", "Enter the name the bank account is held in.")
        return cleaned


class StaffSellerForm(forms.ModelForm):
    """The staff admin's seller form: every field, with the IBAN taken the same write-only way."""

    iban = _iban_field()

    class Meta:
        model = Seller
        fields = [
            "user",
            "store_name",
            "slug",
            "logo",
            "description",
            "return_policy",
            "commission_rate",
            "payout_account_holder",
            "payout_provider_ref",
        ]

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if isinstance(logo, UploadedFile):  # a new upload, not the stored file
            validate_logo(logo)
        return logo

    def clean_iban(self) -> str:
        return normalize_iban(self.cleaned_data.get("iban", ""))
