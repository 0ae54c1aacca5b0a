"""Queries of the accounts app."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Address, User, normalize_email


def address_list_for_user(*, user: User) -> QuerySet[Address]:
    """The user's addresses, default first; the only way views reach an address, so another user's
    address is simply not found."""
    return Address.objects.filter(user=user).order_by("-is_default", "-created_at", "-id")


def address_get_for_user(*, user: User, address_id: int) -> Address | None:
    return address_list_for_user(user=user).filter(pk=address_id).first()


def address_default_for_user(*, user: User) -> Address | None:
    return Address.objects.filter(user=user, is_default=True).first()


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=normalize_email(email)).first()
