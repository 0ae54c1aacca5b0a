"""``manage.py approve_seller <slug>``: approve a pending seller (or reinstate a suspended one)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sellers import selectors, services
from sellers.models import Seller


class Command(BaseCommand):
    help = "Approve the seller with this slug: its store opens and the seller is emailed."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The seller's slug, as shown in the admin's seller list.")

    def handle(self, *args, slug: str, **options):
        seller = selectors.seller_get_by_slug(slug=slug)
        if seller is None:
            raise CommandError(f"No seller with the slug {slug!r}.")
        if seller.status == Seller.Status.APPROVED:
            self.stdout.write(f"{seller.store_name} ({seller.slug}) is already approved: nothing to do.")
            return
        previous = seller.get_status_display().lower()
        try:
            seller = services.seller_set_status(seller=seller, status=Seller.Status.APPROVED)
        except services.InvalidStatusChange as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Approved {seller.store_name} ({seller.slug}), previously {previous}.")
            + f"\nAn email is on its way to {seller.user.email}."
        )
