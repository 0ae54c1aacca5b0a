"""Commands that change sellers: onboarding, the status a seller is in, the seller's own profile,
the commission ledger and payouts.

Each raises ``django.core.exceptions.ValidationError`` keyed by field name for bad input (pages show
it next to the field, the API answers 400 with ``fields``) and a ``SellerError`` subclass for a
request that makes no sense in the seller's current state (the API answers 409).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from payments import services as payments_services
from shop.core.events import publish
from shop.core.money import DEFAULT_CURRENCY, Money, to_decimal

from .events import SELLER_STATUS_CHANGED
from .models import LedgerEntry, Payout, Seller

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


# --- commission ledger ----------------------------------------------------------------------------

LEDGER_REFERENCE_MAX_LENGTH = LedgerEntry._meta.get_field("reference").max_length
DEFAULT_PAYOUT_HOLD_DAYS = 7  # SELLER_PAYOUT_HOLD_DAYS: sales wait this long (returns, chargebacks) before payout


# a refund and its commission reversal: recorded together, netted into the next payout at once
REFUND_KINDS = (LedgerEntry.Kind.REFUND, LedgerEntry.Kind.COMMISSION_REVERSAL)


class LedgerConflict(ValueError):
    """The reference was recorded before with other amounts: a caller's bug, never a second entry."""


def _ledger_write(*, seller_id: int, reference: str, currency: str, amounts: list[tuple[str, Decimal]]) -> None:
    reference = (reference or "").strip()
    if not reference or len(reference) > LEDGER_REFERENCE_MAX_LENGTH:
        raise ValueError(f"a ledger reference has 1 to {LEDGER_REFERENCE_MAX_LENGTH} characters, not {reference!r}")
    Money.zero(currency)  # raises ValueError for anything but an ISO 4217 code
    entries = [
        LedgerEntry(
            seller_id=seller_id,
            kind=kind,
            amount=amount,
            currency=currency,
            reference=reference,
            idempotency_key=f"{kind}:{seller_id}:{reference}",
        )
        for kind, amount in amounts
        if amount  # a sale without commission writes no commission entry
    ]
    if not entries:
        return
    # ON CONFLICT DO NOTHING: a retried or concurrent recording of the same reference adds nothing
    LedgerEntry.objects.bulk_create(entries, ignore_conflicts=True)
    stored = {
        key: (amount, currency_)
        for key, amount, currency_ in LedgerEntry.objects.filter(
            idempotency_key__in=[entry.idempotency_key for entry in entries]
        ).values_list("idempotency_key", "amount", "currency")
    }
    for entry in entries:
        if stored.get(entry.idempotency_key) != (entry.amount, entry.currency):
            raise LedgerConflict(
                f"{entry.idempotency_key} is recorded as {stored.get(entry.idempotency_key)}, "
                f"not {entry.amount} {entry.currency}"
            )


def _gross_and_commission(gross: Decimal, commission: Decimal) -> tuple[Decimal, Decimal]:
    gross, commission = to_decimal(gross), to_decimal(commission)
    if gross < 0 or commission < 0:
        raise ValueError("gross and commission are positive amounts; the kind of entry gives the sign")
    if commission > gross:
        raise ValueError(f"the commission ({commission}) is more than the gross amount ({gross})")
    return gross, commission


def ledger_record_sale(*, seller_id: int, reference: str, gross: Decimal, commission: Decimal, currency: str) -> None:
    """A paid sub-order (``reference``, its number): credits ``gross`` and debits ``commission``.

    Idempotent by reference: recording it again writes nothing; again with other amounts raises
    LedgerConflict. Runs in the caller's transaction when there is one (orders' payment step).
    """
    gross, commission = _gross_and_commission(gross, commission)
    _ledger_write(
        seller_id=seller_id,
        reference=reference,
        currency=currency,
        amounts=[(LedgerEntry.Kind.SALE, gross), (LedgerEntry.Kind.COMMISSION, -commission)],
    )
    logger.info("ledger: seller %s sale %s of %s %s, commission %s", seller_id, reference, gross, currency, commission)


def ledger_record_refund(*, seller_id: int, reference: str, gross: Decimal, commission: Decimal, currency: str) -> None:
    """A refund (``reference`` unique per refund): debits ``gross`` and gives ``commission`` back.

    Idempotent by reference, as ``ledger_record_sale``. A refund of money already paid out leaves the
    balance negative; the next payouts net it against new sales.
    """
    gross, commission = _gross_and_commission(gross, commission)
    _ledger_write(
        seller_id=seller_id,
        reference=reference,
        currency=currency,
        amounts=[(LedgerEntry.Kind.REFUND, -gross), (LedgerEntry.Kind.COMMISSION_REVERSAL, commission)],
    )
    logger.info(
        "ledger: seller %s refund %s of %s %s, commission back %s", seller_id, reference, gross, currency, commission
    )


# --- payouts --------------------------------------------------------------------------------------


def payout_hold() -> timedelta:
    return timedelta(days=getattr(settings, "SELLER_PAYOUT_HOLD_DAYS", DEFAULT_PAYOUT_HOLD_DAYS))


def payout_key(*, seller_id: int, period_end: date, currency: str) -> str:
    """The payout's idempotency key, also its transfer's: one payout per seller and period."""
    key = f"payout:{seller_id}:{period_end.isoformat()}"
    return key if currency == DEFAULT_CURRENCY else f"{key}:{currency}"


def payouts_run(*, now: datetime | None = None, progress: Callable[[Payout], None] | None = None) -> list[Payout]:
    """Pay every seller its balance (beat, every two weeks; ``manage.py run_payouts``).

    For each approved seller with a payout account and a positive sum of entries not yet in a
    payout (sales and commissions older than SELLER_PAYOUT_HOLD_DAYS, refunds whatever their age),
    one Payout keyed ``payout:<seller>:<period_end>`` carries those entries; then
    payments.transfer_create sends it with that key and the payout becomes paid or failed (a
    transfer with no answer yet stays pending). Payouts left pending by an earlier run are asked
    about first, with their own key.

    Rerunning, or running twice at once, never pays twice: the seller's row is locked while its
    payout is made, the key is unique, and the transfer is idempotent by that key. Returns the
    payouts this run made or settled; ``progress`` is called with each as it is done.
    """
    now = now or timezone.now()
    report = progress or (lambda payout: None)
    touched = payouts_settle_pending()
    for payout in touched:
        report(payout)
    cutoff = now - payout_hold()
    period_end = timezone.localdate(cutoff)
    due = (
        LedgerEntry.objects.filter(payout__isnull=True, created_at__lte=cutoff)
        .exclude(kind=LedgerEntry.Kind.PAYOUT)
        .values_list("seller_id", "currency")
        .distinct()
        .order_by("seller_id", "currency")
    )
    for seller_id, currency in list(due):
        payout = _payout_create(seller_id=seller_id, currency=currency, cutoff=cutoff, period_end=period_end)
        if payout is not None:
            payout = _payout_send(payout)
            touched.append(payout)
            report(payout)
    return touched


def payouts_settle_pending() -> list[Payout]:
    """Ask again, with the same key, about each payout whose transfer had no outcome yet."""
    return [
        _payout_send(payout)
        for payout in Payout.objects.filter(status=Payout.Status.PENDING)
        .order_by("created_at")
        .select_related("seller")
    ]


def _payout_create(*, seller_id: int, currency: str, cutoff: datetime, period_end: date) -> Payout | None:
    key = payout_key(seller_id=seller_id, period_end=period_end, currency=currency)
    with transaction.atomic():
        # one payout run per seller at a time: a second run waits here, then finds the key taken
        seller = Seller.objects.select_for_update().get(pk=seller_id)
        if Payout.objects.filter(idempotency_key=key).exists():
            return None
        if seller.status != Seller.Status.APPROVED:
            logger.info("payouts: seller %s is %s: payout held", seller_id, seller.status)
            return None
        if not seller.payout_provider_ref:
            logger.warning("payouts: seller %s has no payout account at the provider: payout held", seller_id)
            return None
        entries = list(
            LedgerEntry.objects.filter(seller_id=seller_id, currency=currency, payout__isnull=True)
            .exclude(kind=LedgerEntry.Kind.PAYOUT)
            # sales (and their commission) wait out the hold, for returns and chargebacks; refunds
            # count at once, so money already given back to a buyer is never paid out
            .filter(Q(created_at__lte=cutoff) | Q(kind__in=REFUND_KINDS))
            .values_list("pk", "amount", "created_at")
        )
        amount = sum((entry_amount for _, entry_amount, _ in entries), Decimal("0.00"))
        if amount <= 0:
            return None
        period_start = min(min(timezone.localdate(created) for _, _, created in entries), period_end)
        payout = Payout.objects.create(
            seller=seller,
            amount=amount,
            currency=currency,
            period_start=period_start,
            period_end=period_end,
            idempotency_key=key,
            destination=seller.payout_provider_ref,
        )
        LedgerEntry.objects.filter(pk__in=[pk for pk, _, _ in entries]).update(payout=payout)
    logger.info("payouts: %s of %s %s to seller %s created", key, amount, currency, seller_id)
    return payout


def _payout_send(payout: Payout) -> Payout:
    """Send the payout's transfer (or learn its outcome: the key makes it the same transfer) and
    record the outcome. Called outside any transaction: the gateway call holds no lock."""
    try:
        outcome = payments_services.transfer_create(
            idempotency_key=payout.idempotency_key,
            destination=payout.destination,
            amount=payout.amount,
            currency=payout.currency,
        )
    except payments_services.IdempotencyKeyReused:
        # another transfer holds this key: an operator must look; sending anything would risk paying twice
        logger.error("payouts: %s: the provider knows this key for another transfer; left pending", payout)
        return payout
    except ValueError as exc:  # the provider refuses the destination: the seller must fix its account
        logger.warning("payouts: %s refused: %s", payout.idempotency_key, exc)
        return _payout_settle(payout_id=payout.pk, status="failed", transfer_reference="")
    except Exception:
        logger.exception("payouts: %s: transfer not sent; the next run tries again with the same key", payout)
        return payout
    return _payout_settle(payout_id=payout.pk, status=outcome.status, transfer_reference=str(outcome.transfer_id))


def _payout_settle(*, payout_id: int, status: str, transfer_reference: str) -> Payout:
    with transaction.atomic():
        payout = Payout.objects.select_for_update().select_related("seller").get(pk=payout_id)
        if payout.status != Payout.Status.PENDING:  # a concurrent run settled it first
            return payout
        payout.transfer_reference = transfer_reference or payout.transfer_reference
        if status == "succeeded":
            payout.status = Payout.Status.PAID
            payout.paid_at = timezone.now()
            LedgerEntry.objects.get_or_create(
                idempotency_key=payout.idempotency_key,
                defaults={
                    "seller_id": payout.seller_id,
                    "kind": LedgerEntry.Kind.PAYOUT,
                    "amount": -payout.amount,
                    "currency": payout.currency,
                    "reference": payout.idempotency_key,
                    "payout": payout,
                },
            )
        elif status == "failed":
            payout.status = Payout.Status.FAILED
            # its entries go back to the balance and into the next period's payout
            LedgerEntry.objects.filter(payout=payout).update(payout=None)
        payout.save(update_fields=["status", "paid_at", "transfer_reference"])
    logger.info("payouts: %s is %s", payout.idempotency_key, payout.status)
    return payout
