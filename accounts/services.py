"""Commands of the accounts app: sign-up, log-in checks, email verification and addresses.

Each raises ``django.core.exceptions.ValidationError`` keyed by field name for bad input, so pages
show it next to the field and the API answers 400 with ``fields``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from shop.core import ratelimit

from .models import Address, User, normalize_email

logger = logging.getLogger(__name__)

# One message whether the address is taken or not would be ideal, but sign-up must say something;
# this one does not confirm that the account exists any more than "log in instead" would.
EMAIL_TAKEN_MESSAGE = "This email address cannot be used to sign up. If it is yours, log in or reset your password."
LOGIN_BLOCKED_MESSAGE = "Too many failed attempts. Wait a minute and try again."
INVALID_CREDENTIALS_MESSAGE = "The email address or the password is not right."

_VERIFICATION_SALT = "accounts.email_verification"
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")
_PHONE = re.compile(r"[0-9+()./\- ]*")
ADDRESS_FIELDS = ("full_name", "line1", "line2", "city", "postal_code", "country", "phone")


class LoginBlocked(Exception):
    """Too many failed log-ins for this account or from this client (RATE_LIMITS "login", "login_ip")."""


class InvalidCredentials(Exception):
    pass


class EmailVerificationError(Exception):
    pass


class EmailVerificationExpired(EmailVerificationError):
    pass


# --- users --------------------------------------------------------------------------------------


def user_register(*, email: str, password: str, full_name: str = "") -> User:
    """Create a buyer account and mail a verification link once the transaction commits."""
    email = normalize_email(email)
    candidate = User(email=email, full_name=full_name)
    errors: dict[str, list[str]] = {}
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = exc.messages
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = [EMAIL_TAKEN_MESSAGE]
    if errors:
        raise ValidationError(errors)

    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, full_name=full_name)
    except IntegrityError:
        # a concurrent sign-up with the same address won the race past the check above
        raise ValidationError({"email": [EMAIL_TAKEN_MESSAGE]}) from None
    # robust: a mail server that is down must not turn a completed sign-up into an error page;
    # the buyer can ask for another link from the account page.
    transaction.on_commit(lambda: email_verification_send(user=user), robust=True)
    return user


def user_authenticate(*, request: HttpRequest, email: str, password: str) -> User:
    """The user with these credentials, for the log-in page and the API token alike.

    Failures are counted per account and per client; once either limit is used up every attempt is
    refused before the password is checked, so that even the right password does not get through
    a guessing run. A success does not count.
    """
    email = normalize_email(email)
    per_account = f"email:{email}"
    if ratelimit.is_blocked(request, "login", key=per_account) or ratelimit.is_blocked(request, "login_ip", key="ip"):
        raise LoginBlocked(LOGIN_BLOCKED_MESSAGE)
    user = authenticate(request, email=email, password=password)
    if user is None:
        ratelimit.record(request, "login", key=per_account)
        ratelimit.record(request, "login_ip", key="ip")
        raise InvalidCredentials(INVALID_CREDENTIALS_MESSAGE)
    return user


# --- email verification -------------------------------------------------------------------------


def _verification_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_VERIFICATION_SALT)


def email_verification_token(*, user: User) -> str:
    """A signed, timestamped token naming the user and the address: a link sent to an old address
    stops working once the email changes."""
    return _verification_signer().sign_object({"id": user.pk, "email": user.email})


def email_verification_send(*, user: User) -> None:
    if user.email_verified:
        return
    path = reverse("accounts:verify_email", kwargs={"token": email_verification_token(user=user)})
    context = {
        "user": user,
        "site_name": settings.SITE_NAME,
        "verify_url": settings.SITE_URL.rstrip("/") + path,
        "valid_days": settings.EMAIL_VERIFICATION_MAX_AGE.days,
    }
    subject = "".join(render_to_string("accounts/email/verification_subject.txt", context).splitlines())
    body = render_to_string("accounts/email/verification_email.txt", context)
    send_mail(subject, body, None, [user.email])
    logger.info("verification email sent to user %s", user.pk)


def email_verify(*, token: str) -> User:
    """Mark the address in the token verified. Following the link twice is harmless."""
    try:
        claims = _verification_signer().unsign_object(token, max_age=settings.EMAIL_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired:
        raise EmailVerificationExpired("This link has expired.") from None
    except signing.BadSignature:
        raise EmailVerificationError("This link is not valid.") from None

    user = User.objects.filter(pk=claims.get("id"), email=claims.get("email"), is_active=True).first()
    if user is None:
        raise EmailVerificationError("This link is not valid.")
    if not user.email_verified:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


# --- addresses ----------------------------------------------------------------------------------


def _address_clean(address: Address) -> None:
    for name in ADDRESS_FIELDS:
        value = getattr(address, name)
        setattr(address, name, value.strip() if isinstance(value, str) else value)
    address.country = address.country.upper()
    errors: dict[str, list[str]] = {}
    if address.country and not _COUNTRY_CODE.fullmatch(address.country):
        errors["country"] = ["Enter a two-letter country code, such as DE or FR."]
    if not _PHONE.fullmatch(address.phone):
        errors["phone"] = ["Use digits, spaces and + ( ) - . / only."]
    try:
        # the one-default constraint is kept by the callers, which move the default first
        address.full_clean(exclude=["user"], validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _lock_addresses_of(user_id: int) -> None:
    """Serialize address writes of one user, so two concurrent writes cannot both take the default."""
    list(User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True))


def address_create(
    *,
    user: User,
    full_name: str,
    line1: str,
    city: str,
    postal_code: str,
    country: str,
    line2: str = "",
    phone: str = "",
    is_default: bool = False,
) -> Address:
    """Add an address. The first one becomes the default, so checkout always has one to offer."""
    address = Address(
        user=user,
        full_name=full_name,
        line1=line1,
        line2=line2,
        city=city,
        postal_code=postal_code,
        country=country,
        phone=phone,
    )
    _address_clean(address)
    with transaction.atomic():
        _lock_addresses_of(user.pk)
        has_default = Address.objects.filter(user=user, is_default=True).exists()
        if is_default and has_default:
            Address.objects.filter(user=user, is_default=True).update(is_default=False)
        address.is_default = is_default or not has_default
        address.save()
    return address


def address_update(*, address: Address, data: Mapping[str, Any]) -> Address:
    """Change the fields given in ``data`` (ADDRESS_FIELDS and ``is_default``); others stay.

    ``is_default: True`` moves the default here. ``False`` does not take it away: the default moves
    only by choosing another one, so a buyer with addresses always has exactly one default.
    """
    unknown = set(data) - {*ADDRESS_FIELDS, "is_default"}
    if unknown:
        raise ValueError(f"not address fields: {sorted(unknown)}")
    for name in ADDRESS_FIELDS:
        if name in data:
            setattr(address, name, data[name])
    _address_clean(address)
    with transaction.atomic():
        _lock_addresses_of(address.user_id)
        if data.get("is_default") and not address.is_default:
            Address.objects.filter(user_id=address.user_id, is_default=True).update(is_default=False)
            address.is_default = True
        address.save()
    return address


def address_make_default(*, address: Address) -> Address:
    return address_update(address=address, data={"is_default": True})


def address_delete(*, address: Address) -> None:
    """Delete an address; when it was the default, the newest remaining one takes its place."""
    with transaction.atomic():
        _lock_addresses_of(address.user_id)
        was_default = address.is_default
        user_id = address.user_id
        address.delete()
        if was_default:
            successor = Address.objects.filter(user_id=user_id).order_by("-created_at", "-id").first()
            if successor is not None:
                successor.is_default = True
                successor.save(update_fields=["is_default"])
