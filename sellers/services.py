"""Commands that change sellers: onboarding and the status a seller is in."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from sellers.models import Seller


class SellerError(Exception):
    pass


def _unique_slug(store_name: str) -> str:
    base = slugify(store_name)[:120] or "store"
    slug, n = base, 1
    while Seller.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def seller_apply(*, user, store_name: str, description: str = "") -> Seller:
    """A user applies to sell; the application waits for staff review. One seller per user."""
    store_name = store_name.strip()
    if not store_name:
        raise SellerError("A store needs a name.")
    if Seller.objects.filter(user=user).exists():
        raise SellerError("You have already applied to sell.")
    return Seller.objects.create(
        user=user, store_name=store_name, slug=_unique_slug(store_name), description=description
    )


_ALLOWED = {
    Seller.Status.APPROVED: {Seller.Status.PENDING, Seller.Status.SUSPENDED, Seller.Status.REJECTED},
    Seller.Status.REJECTED: {Seller.Status.PENDING},
    Seller.Status.SUSPENDED: {Seller.Status.APPROVED},
}


@transaction.atomic
def seller_set_status(*, seller: Seller, status: str) -> Seller:
    """Approve, reject or suspend. Raises SellerError for a transition that makes no sense."""
    seller = Seller.objects.select_for_update().get(pk=seller.pk)
    if seller.status == status:
        return seller
    if seller.status not in _ALLOWED.get(status, set()):
        raise SellerError(f"A {seller.get_status_display().lower()} seller cannot become {status}.")
    seller.status = status
    seller.status_changed_at = timezone.now()
    seller.save(update_fields=["status", "status_changed_at"])
    return seller
