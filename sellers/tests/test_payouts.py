"""Payouts: each seller's balance past the hold, paid once per period through payments.transfer_create
(the sandbox gateway, which keeps its own ledger of transfers by key)."""

import threading
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from payments.models import Transfer
from sellers import selectors, services
from sellers.models import LedgerEntry, Payout, Seller
from sellers.tasks import sellers_payouts_run_task
from sellers.tests.factories import SellerFactory

D = Decimal
HOLD = timedelta(days=7)


@pytest.fixture(autouse=True)
def _sandbox_payouts(settings):
    settings.PAYMENT_PAYOUT_GATEWAY = "sandbox"
    settings.SELLER_PAYOUT_HOLD_DAYS = 7


def paid_seller(**kwargs) -> Seller:
    return SellerFactory(payout_provider_ref=kwargs.pop("payout_provider_ref", "acct_sandbox_1"), **kwargs)


def sale(seller, reference, gross, commission="0", *, age=timedelta(days=10)):
    services.ledger_record_sale(
        seller_id=seller.pk, reference=reference, gross=D(gross), commission=D(commission), currency="EUR"
    )
    LedgerEntry.objects.filter(reference=reference).update(created_at=timezone.now() - age)


def refund(seller, reference, gross, commission="0", *, age=timedelta(0)):
    services.ledger_record_refund(
        seller_id=seller.pk, reference=reference, gross=D(gross), commission=D(commission), currency="EUR"
    )
    LedgerEntry.objects.filter(reference=reference).update(created_at=timezone.now() - age)


@pytest.mark.django_db
class TestPayoutsRun:
    def test_the_balance_past_the_hold_is_paid_and_debited(self):
        seller = paid_seller()
        sale(seller, "SO-1", "100.00", "10.00")
        sale(seller, "SO-2", "50.00", "5.00", age=timedelta(days=2))  # still within the hold

        [payout] = services.payouts_run()

        assert (payout.status, payout.amount, payout.currency) == ("paid", D("90.00"), "EUR")
        today = timezone.localdate()
        assert payout.idempotency_key == f"payout:{seller.pk}:{(today - HOLD).isoformat()}"
        assert payout.period_end == today - HOLD
        assert payout.period_start == today - timedelta(days=10)
        assert sorted(payout.entries.values_list("kind", "reference")) == [
            ("commission", "SO-1"),
            ("payout", payout.idempotency_key),
            ("sale", "SO-1"),
        ]
        assert sum(payout.entries.values_list("amount", flat=True)) == 0  # what it carried, and its debit
        transfer = Transfer.objects.get()
        assert (transfer.idempotency_key, transfer.destination, transfer.amount, transfer.status) == (
            payout.idempotency_key,
            "acct_sandbox_1",
            D("90.00"),
            "succeeded",
        )
        assert payout.transfer_reference == str(transfer.pk)
        assert payout.paid_at is not None
        # the young sale is still owed
        assert selectors.seller_balance(seller_id=seller.pk) == D("45.00")
        assert LedgerEntry.objects.get(kind="payout").amount == D("-90.00")

    def test_running_again_pays_nothing_twice(self):
        seller = paid_seller()
        sale(seller, "SO-1", "100.00", "10.00")

        first = services.payouts_run()
        second = services.payouts_run()
        sale(seller, "SO-2", "20.00", "2.00")  # old enough, but the period's payout is made
        third = services.payouts_run()

        assert len(first) == 1
        assert second == third == []
        assert Payout.objects.count() == 1
        assert Transfer.objects.count() == 1
        assert LedgerEntry.objects.filter(kind="payout").count() == 1

    def test_next_period_pays_what_came_after(self):
        seller = paid_seller()
        sale(seller, "SO-1", "100.00", "10.00")
        services.payouts_run()
        sale(seller, "SO-2", "20.00", "2.00", age=timedelta(days=3))

        [later] = services.payouts_run(now=timezone.now() + timedelta(days=14))

        assert later.amount == D("18.00")
        assert Transfer.objects.count() == 2
        assert selectors.seller_balance(seller_id=seller.pk) == D("0.00")

    def test_refunds_count_at_once_and_a_negative_balance_waits(self):
        seller = paid_seller()
        sale(seller, "SO-1", "100.00", "10.00")
        refund(seller, "RF-1", "40.00", "4.00")  # today: debits are not held

        [payout] = services.payouts_run()
        assert payout.amount == D("54.00")

        refund(seller, "RF-2", "60.00", "6.00")  # of money already paid out
        assert services.payouts_run(now=timezone.now() + timedelta(days=14)) == []
        assert selectors.seller_balance(seller_id=seller.pk) == D("-54.00")

    def test_sellers_without_payout_account_or_not_approved_are_held(self):
        no_account = paid_seller(payout_provider_ref="")
        suspended = paid_seller(status=Seller.Status.SUSPENDED)
        ok = paid_seller(payout_provider_ref="acct_ok")
        for seller in (no_account, suspended, ok):
            sale(seller, f"SO-{seller.pk}", "10.00")

        payouts = services.payouts_run()

        assert [p.seller_id for p in payouts] == [ok.pk]
        assert selectors.seller_balance(seller_id=no_account.pk) == D("10.00")

    def test_a_refused_transfer_fails_the_payout_and_frees_its_entries(self):
        seller = paid_seller(payout_provider_ref="4242424242424242")  # a card number, never a destination
        sale(seller, "SO-1", "30.00", "3.00")

        [payout] = services.payouts_run()

        assert payout.status == "failed"
        assert not payout.entries.exists()
        assert selectors.seller_balance(seller_id=seller.pk) == D("27.00")
        assert services.payouts_run() == []  # the same period is not tried again the same day

        Seller.objects.filter(pk=seller.pk).update(payout_provider_ref="acct_fixed")
        [retry] = services.payouts_run(now=timezone.now() + timedelta(days=1))
        assert (retry.status, retry.amount) == ("paid", D("27.00"))
        assert selectors.seller_balance(seller_id=seller.pk) == D("0.00")

    def test_a_gateway_that_cannot_pay_fails_the_payout(self, settings):
        settings.PAYMENT_PAYOUT_GATEWAY = "no-such-gateway"
        seller = paid_seller()
        sale(seller, "SO-1", "30.00")

        [payout] = services.payouts_run()

        assert payout.status == "failed"
        assert Transfer.objects.get().status == "failed"
        assert selectors.seller_balance(seller_id=seller.pk) == D("30.00")

    def test_a_payout_left_pending_by_a_crash_is_sent_by_the_next_run_with_its_key(self):
        seller = paid_seller()
        sale(seller, "SO-1", "30.00")
        cutoff = timezone.now() - HOLD
        # the run died after committing the payout and before calling the provider
        payout = services._payout_create(
            seller_id=seller.pk, currency="EUR", cutoff=cutoff, period_end=timezone.localdate(cutoff)
        )
        assert payout.status == "pending"

        [resumed] = services.payouts_run()

        assert resumed.pk == payout.pk
        assert resumed.status == "paid"
        assert Transfer.objects.get().idempotency_key == payout.idempotency_key
        assert Payout.objects.count() == 1

    def test_the_beat_task_and_the_selectors(self):
        seller = paid_seller()
        sale(seller, "SO-1", "30.00")

        assert sellers_payouts_run_task.delay().get() == 1
        assert [p.status for p in selectors.payouts_for_seller(seller_id=seller.pk)] == ["paid"]

    def test_the_command_reports_each_payout(self):
        seller = paid_seller(store_name="Lamp Shop")
        sale(seller, "SO-1", "30.00", "3.00")
        out = StringIO()

        call_command("run_payouts", stdout=out)
        call_command("run_payouts", stdout=out)

        text = out.getvalue()
        assert "Lamp Shop: 27.00 EUR" in text
        assert "Done: 1 paid, 0 failed, 0 waiting for the provider." in text
        assert "Nothing to pay" in text


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_make_one_payout_per_seller():
    sellers = [paid_seller(payout_provider_ref=f"acct_{i}") for i in range(4)]
    for seller in sellers:
        sale(seller, f"SO-{seller.pk}", "25.00", "2.50")
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(index: int) -> None:
        try:
            barrier.wait(10)
            results[index] = services.payouts_run()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert all(isinstance(r, list) for r in results), results
    assert Payout.objects.count() == 4
    assert sorted(Payout.objects.values_list("seller_id", flat=True)) == sorted(s.pk for s in sellers)
    assert set(Payout.objects.values_list("status", flat=True)) == {"paid"}
    assert Transfer.objects.count() == 4
    assert LedgerEntry.objects.filter(kind="payout").count() == 4
    for seller in sellers:
        assert selectors.seller_balance(seller_id=seller.pk) == D("0.00")


# --- the admins -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_seller_sees_its_own_ledger_and_payouts_read_only(client):
    seller, other = paid_seller(), paid_seller(payout_provider_ref="acct_other")
    sale(seller, "SO-MINE", "30.00", "3.00")
    sale(other, "SO-THEIRS", "50.00", "5.00")
    services.payouts_run()
    sale(seller, "SO-NEW", "10.00", "1.00", age=timedelta(0))
    client.force_login(seller.user)

    listing = client.get(reverse("seller_admin:sellers_ledgerentry_changelist"))

    assert listing.status_code == 200
    payout_key = Payout.objects.get(seller=seller).idempotency_key
    assert {e.reference for e in listing.context["cl"].queryset} == {"SO-MINE", "SO-NEW", payout_key}
    assert b"balance 9.00 EUR" in listing.content
    payouts = client.get(reverse("seller_admin:sellers_payout_changelist"))
    assert [p.seller_id for p in payouts.context["cl"].queryset] == [seller.pk]
    theirs = Payout.objects.get(seller=other)
    assert client.get(reverse("seller_admin:sellers_payout_change", args=[theirs.pk])).status_code == 404
    mine = Payout.objects.get(seller=seller)
    page = client.get(reverse("seller_admin:sellers_payout_change", args=[mine.pk]))
    assert page.status_code == 200
    assert b"SO-MINE" in page.content
    assert client.get(reverse("seller_admin:sellers_ledgerentry_add")).status_code == 403
    assert client.post(reverse("seller_admin:sellers_payout_change", args=[mine.pk]), {}).status_code == 403


@pytest.mark.django_db
def test_staff_see_every_ledger_entry_and_payout(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for i in range(2):
        sale(paid_seller(payout_provider_ref=f"acct_{i}"), f"SO-{i}", "10.00", "1.00")
    services.payouts_run()

    entries = client.get(reverse("admin:sellers_ledgerentry_changelist"))
    payouts = client.get(reverse("admin:sellers_payout_changelist"))
    detail = client.get(reverse("admin:sellers_payout_change", args=[Payout.objects.first().pk]))

    assert entries.status_code == payouts.status_code == detail.status_code == 200
    assert entries.context["cl"].result_count == 6
    assert payouts.context["cl"].result_count == 2
    assert client.get(reverse("admin:sellers_payout_add")).status_code == 403
