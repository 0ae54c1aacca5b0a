"""Staff admin for users (email instead of username) and their addresses."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from .models import Address, User, normalize_email


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)
        field_classes = {}

    def clean_email(self) -> str:
        # lower-cased before the unique check, which then also catches "Ann@…" against "ann@…"
        return normalize_email(self.cleaned_data["email"])


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        field_classes = {}

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0
    fields = ["full_name", "line1", "line2", "city", "postal_code", "country", "phone", "is_default"]
    # The buyer moves the default on the addresses page, where the one-default rule is kept;
    # editing it here could clash with the database constraint mid-save.
    readonly_fields = ["is_default"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    inlines = [AddressInline]
    ordering = ["email"]
    list_display = ["email", "full_name", "is_business", "email_verified_at", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "is_business", "groups"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "is_business", "email_verified_at"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "usable_password", "password1", "password2"]}),
    ]

    def get_inlines(self, request, obj):
        # the add page asks for credentials only, like Django's own; addresses come after
        return self.inlines if obj is not None else []
