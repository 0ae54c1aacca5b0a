"""Forms of the account pages: they check types and lengths; the rules live in accounts.services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import SetPasswordForm

from .models import Address

# Long enough for any passphrase; short enough that hashing a hostile 1 MB "password" never starts.
PASSWORD_MAX_LENGTH = 128


def _password_field(*, label: str = "Password", autocomplete: str = "current-password", help_text: str = ""):
    return forms.CharField(
        label=label,
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def _email_field():
    return forms.EmailField(
        label="Email address", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class SignupForm(forms.Form):
    email = _email_field()
    password = _password_field(
        autocomplete="new-password", help_text=password_validation.password_validators_help_text_html()
    )


class LoginForm(forms.Form):
    email = _email_field()
    password = _password_field()


class AccountSetPasswordForm(SetPasswordForm):
    """Django's form for the password reset link, with a length limit on the new password."""

    new_password1 = _password_field(
        label="New password",
        autocomplete="new-password",
        help_text=password_validation.password_validators_help_text_html(),
    )
    new_password2 = _password_field(label="New password again", autocomplete="new-password")


class AddressForm(forms.Form):
    full_name = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    line1 = forms.CharField(
        label="Address line 1", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "address-line1"})
    )
    line2 = forms.CharField(
        label="Address line 2",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    postal_code = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"autocomplete": "postal-code"}))
    country = forms.CharField(
        max_length=2,
        min_length=2,
        help_text="Two-letter code, such as DE or FR.",
        widget=forms.TextInput(attrs={"autocomplete": "country", "size": 2}),
    )
    phone = forms.CharField(max_length=32, required=False, widget=forms.TextInput(attrs={"autocomplete": "tel"}))
    is_default = forms.BooleanField(label="Use as my default address", required=False)

    @classmethod
    def initial_for(cls, address: Address) -> dict:
        return {name: getattr(address, name) for name in cls.base_fields}
