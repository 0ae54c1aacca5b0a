"""``manage.py run_payouts``: pay every seller its balance now (what the two-weekly beat task does)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from sellers import services
from sellers.models import Payout


class Command(BaseCommand):
    help = (
        "Pay each approved seller the balance of its ledger entries past the hold period, once per seller "
        "and period (safe to run again), and settle payouts whose transfer had no answer yet."
    )

    def handle(self, *args, **options):
        hold_days = services.payout_hold().days
        self.stdout.write(f"Paying out balances older than {hold_days} day(s)...")
        counts = dict.fromkeys(Payout.Status.values, 0)

        def progress(payout: Payout) -> None:
            counts[payout.status] += 1
            line = (
                f"  {payout.seller.store_name}: {payout.amount:.2f} {payout.currency} "
                f"({payout.period_start} to {payout.period_end}) {payout.get_status_display().lower()}"
            )
            style = {"paid": self.style.SUCCESS, "failed": self.style.ERROR}.get(payout.status, self.style.WARNING)
            self.stdout.write(style(line))

        payouts = services.payouts_run(progress=progress)
        if not payouts:
            self.stdout.write("Nothing to pay: no seller has a positive balance past the hold period.")
            return
        self.stdout.write(
            f"Done: {counts['paid']} paid, {counts['failed']} failed, {counts['pending']} waiting for the provider."
        )
