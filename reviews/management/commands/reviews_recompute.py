"""``manage.py reviews_recompute [--dry-run]``: recount every product's rating from its published
reviews, report each product whose stored aggregate had drifted, and correct it."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from reviews import services


class Command(BaseCommand):
    help = "Recompute product ratings from the reviews and report drift (per product, then the total)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report drift without correcting it.")

    def handle(self, *args, dry_run: bool = False, **options):
        drifted = services.product_ratings_recompute(fix=not dry_run)
        for drift in drifted:
            stored = " ".join(f"{stars}★:{n}" for stars, n in drift.stored.items())
            actual = " ".join(f"{stars}★:{n}" for stars, n in drift.actual.items())
            verb = "would be" if dry_run else "was"
            self.stdout.write(f"product {drift.product_id}: stored [{stored}], recounted [{actual}]; {verb} corrected")
        style = self.style.SUCCESS if not drifted else self.style.WARNING
        self.stdout.write(style(f"{len(drifted)} drifted"))
