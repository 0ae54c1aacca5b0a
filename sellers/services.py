"""Commands that change sellers: onboarding, the status a seller is in, and the seller's own profile.

Each raises ``django.core.exceptions.ValidationError`` keyed by field name for bad input (pages show
it next to the field, the API answers 400 with ``fields``) and a ``SellerError`` subclass for a
request that makes no sense in the seller's current state (the API answers 409).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from shop.core.events import publish

from .events import SELLER_STATUS_CHANGED
from .models import Seller

logger = logging.getLogger(__name__)

STORE_NAME_MAX_LENGTH = Seller._meta.get_field("store_name").max_length
DESCRIPTION_MAX_LENGTH = 5000  # a few paragraphs; the storefront page shows it in full
# The profile fields a seller edits itself; status, slug and commission are the staff's.
PROFILE_FIELDS = ("store_name", "description", "return_policy", "logo", "payout_account_holder")


class SellerError(Exception):
    """A request that makes no sense in the seller's current state."""


class AlreadyApplied(SellerError):
    pass


class InvalidStatusChange(SellerError):
    pass


def _unique_slug(store_name: str) -> str:
    base = slugify(store_name)[:120] or "store"
    slug, n = base, 1
    while Seller.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _clean_store_name(store_name: str) -> str:
    store_name = (store_name or "").strip()
    if not store_name:
        raise ValidationError({"store_name": ["A store needs a name."]})
    if len(store_name) > STORE_NAME_MAX_LENGTH:
        raise ValidationError({"store_name": [f"A store name has at most {STORE_NAME_MAX_LENGTH} characters."]})
    if not slugify(store_name):
        raise ValidationError({"store_name": ["A store name needs at least one letter or digit."]})
    return store_name


def seller_apply(*, user, store_name: str, description: str = "") -> Seller:
    """A user applies to sell; the application waits for staff review. One seller per user."""
    store_name = _clean_store_name(store_name)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError({"description": [f"A description has at most {DESCRIPTION_MAX_LENGTH} characters."]})
    if Seller.objects.filter(user=user).exists():
        raise AlreadyApplied("You have already applied to sell.")
    try:
        with transaction.atomic():
            seller = Seller.objects.create(
                user=user, store_name=store_name, slug=_unique_slug(store_name), description=description
            )
    except IntegrityError:
        # a double-clicked form or a concurrent request for the same user won the race past the
        # check above (the user is unique); a slug taken meanwhile is reported the same way rarely
        # enough that asking to retry is fine
        if Seller.objects.filter(user=user).exists():
            raise AlreadyApplied("You have already applied to sell.") from None
        raise ValidationError({"store_name": ["Another store took this name a moment ago. Try again."]}) from None
    logger.info("seller %s applied (user %s)", seller.pk, user.pk)
    return seller


# The statuses a seller may come from, for each status it can go to.
_ALLOWED_FROM: dict[str, set[str]] = {
    Seller.Status.APPROVED: {Seller.Status.PENDING, Seller.Status.SUSPENDED, Seller.Status.REJECTED},
    Seller.Status.REJECTED: {Seller.Status.PENDING},
    Seller.Status.SUSPENDED: {Seller.Status.APPROVED},
}
# The statuses whose arrival the seller hears about by email.
_EMAILED_STATUSES = {Seller.Status.APPROVED, Seller.Status.REJECTED, Seller.Status.SUSPENDED}


def seller_status_change_allowed(*, seller: Seller, status: str) -> bool:
    return seller.status in _ALLOWED_FROM.get(status, set())


@transaction.atomic
def seller_set_status(*, seller: Seller, status: str, actor=None) -> Seller:
    """Approve, reject, suspend or reinstate (approve a suspended seller).

    Publishes ``sellers.seller_status_changed`` in the same transaction and mails the seller once
    it commits. Setting the status a seller already has changes nothing and publishes nothing.
    Raises InvalidStatusChange for a transition that makes no sense (rejecting an approved seller).
    """
    if status not in Seller.Status.values:
        raise ValidationError({"status": [f"{status!r} is not a seller status."]})
    seller = Seller.objects.select_for_update().get(pk=seller.pk)
    if seller.status == status:
        return seller
    if not seller_status_change_allowed(seller=seller, status=status):
        raise InvalidStatusChange(
            f"A seller who is {seller.get_status_display().lower()} cannot be {Seller.Status(status).label.lower()}."
        )
    previous_status = seller.status
    seller.status = status
    seller.status_changed_at = timezone.now()
    seller.save(update_fields=["status", "status_changed_at"])
    publish(
        SELLER_STATUS_CHANGED,
        {"seller_id": seller.pk, "slug": seller.slug, "status": status, "previous_status": previous_status},
    )
    logger.info(
        "seller %s: %s -> %s by user %s", seller.pk, previous_status, status, getattr(actor, "pk", None) or "system"
    )
    if status in _EMAILED_STATUSES:
        seller_id = seller.pk
        # robust: a mail server that is down must not undo a committed approval
        transaction.on_commit(
            lambda: seller_status_email_send(seller_id=seller_id, previous_status=previous_status), robust=True
        )
    return seller


def seller_status_email_send(*, seller_id: int, previous_status: str) -> None:
    """Tell the seller about its new status (approved, rejected, suspended): a plain text email."""
    seller = Seller.objects.select_related("user").get(pk=seller_id)
    context = {
        "seller": seller,
        "user": seller.user,
        "previous_status": previous_status,
        "reinstated": seller.status == Seller.Status.APPROVED and previous_status == Seller.Status.SUSPENDED,
        "site_name": settings.SITE_NAME,
        "seller_admin_url": settings.SITE_URL.rstrip("/") + reverse("seller_admin:index"),
    }
    subject = "".join(render_to_string(f"sellers/email/{seller.status}_subject.txt", context).splitlines())
    body = render_to_string(f"sellers/email/{seller.status}_email.txt", context)
    send_mail(subject, body, None, [seller.user.email])
    logger.info("seller %s: %s email sent", seller.pk, seller.status)


# --- the seller's own profile -------------------------------------------------------------------


def iban_last4(iban: str) -> str:
    """The last four characters of a bank account number: all that the shop keeps of it."""
    return "".join((iban or "").split()).upper()[-4:]


def seller_profile_update(*, seller: Seller, data: dict[str, Any], iban: str = "") -> Seller:
    """Change the profile fields a seller edits itself (PROFILE_FIELDS).

    ``iban`` is the full account number typed by the seller: only its last four characters are
    stored. The number itself goes to the payment provider, which answers with the reference kept
    in ``payout_provider_ref`` (payments app; until it registers accounts, staff enter the
    reference). It is never stored, logged or put in an event.
    """
    unknown = set(data) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    if "store_name" in data:
        data = {**data, "store_name": _clean_store_name(data["store_name"])}
    for name, value in data.items():
        setattr(seller, name, value)
    update_fields = list(data)
    if iban:
        seller.payout_account_last4 = iban_last4(iban)
        # a new account invalidates the provider's reference to the old one
        seller.payout_provider_ref = ""
        update_fields += ["payout_account_last4", "payout_provider_ref"]
    try:
        seller.full_clean(exclude=["user", "logo"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    seller.save(update_fields=update_fields)
    logger.info("seller %s updated its profile (%s)", seller.pk, ", ".join(sorted(update_fields)))
    return seller
