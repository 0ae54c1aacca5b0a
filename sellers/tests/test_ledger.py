"""The commission ledger: what orders record for sales and refunds, and the balance it adds up to."""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from sellers import selectors
from sellers.models import LedgerEntry
from sellers.services import LedgerConflict, ledger_record_refund, ledger_record_sale
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db

D = Decimal


def entries(seller) -> list[tuple[str, Decimal]]:
    return sorted(LedgerEntry.objects.filter(seller=seller).values_list("kind", "amount"))


def test_a_sale_credits_the_gross_and_debits_the_commission():
    seller = SellerFactory()

    ledger_record_sale(seller_id=seller.pk, reference="SO-1", gross=D("100.00"), commission=D("12.50"), currency="EUR")

    assert entries(seller) == [("commission", D("-12.50")), ("sale", D("100.00"))]
    assert selectors.seller_balance(seller_id=seller.pk) == D("87.50")


def test_recording_the_same_sale_again_writes_nothing():
    seller = SellerFactory()

    for _ in range(3):
        ledger_record_sale(seller_id=seller.pk, reference="SO-1", gross=D("40"), commission=D("4"), currency="EUR")

    assert LedgerEntry.objects.count() == 2
    assert selectors.seller_balance(seller_id=seller.pk) == D("36.00")


def test_the_same_reference_with_other_amounts_is_a_conflict_not_a_second_entry():
    seller = SellerFactory()
    ledger_record_sale(seller_id=seller.pk, reference="SO-1", gross=D("40"), commission=D("4"), currency="EUR")

    with pytest.raises(LedgerConflict):
        ledger_record_sale(seller_id=seller.pk, reference="SO-1", gross=D("41"), commission=D("4"), currency="EUR")

    assert selectors.seller_balance(seller_id=seller.pk) == D("36.00")


def test_refunds_debit_the_gross_and_give_the_commission_back():
    seller = SellerFactory()
    ledger_record_sale(seller_id=seller.pk, reference="SO-1", gross=D("100.00"), commission=D("10.00"), currency="EUR")

    ledger_record_refund(seller_id=seller.pk, reference="RF-1", gross=D("30.00"), commission=D("3.00"), currency="EUR")
    ledger_record_refund(seller_id=seller.pk, reference="RF-1", gross=D("30.00"), commission=D("3.00"), currency="EUR")
    ledger_record_refund(seller_id=seller.pk, reference="RF-2", gross=D("70.00"), commission=D("7.00"), currency="EUR")

    assert selectors.seller_balance(seller_id=seller.pk) == D("0.00")
    kinds = [kind for kind, _ in entries(seller)]
    assert kinds.count("refund") == 2
    assert kinds.count("commission_reversal") == 2


def test_a_sale_without_commission_writes_one_entry():
    seller = SellerFactory()

    ledger_record_sale(seller_id=seller.pk, reference="SO-1", gross=D("20"), commission=D("0"), currency="EUR")

    assert entries(seller) == [("sale", D("20.00"))]


def test_balances_are_per_seller_and_per_currency():
    seller, other = SellerFactory(), SellerFactory()
    ledger_record_sale(seller_id=seller.pk, reference="SO-1", gross=D("10"), commission=D("1"), currency="EUR")
    ledger_record_sale(seller_id=seller.pk, reference="SO-2", gross=D("50"), commission=D("5"), currency="USD")
    ledger_record_sale(seller_id=other.pk, reference="SO-3", gross=D("99"), commission=D("9"), currency="EUR")

    assert selectors.seller_balance(seller_id=seller.pk) == D("9.00")
    assert selectors.seller_balance(seller_id=seller.pk, currency="USD") == D("45.00")
    assert selectors.seller_balance(seller_id=SellerFactory().pk) == D("0.00")
    assert [e.reference for e in selectors.ledger_entries(seller_id=other.pk)] == ["SO-3", "SO-3"]


@pytest.mark.parametrize(
    ("gross", "commission", "reference", "currency", "error"),
    [
        (D("-1"), D("0"), "SO-1", "EUR", ValueError),
        (D("10"), D("-1"), "SO-1", "EUR", ValueError),
        (D("10"), D("11"), "SO-1", "EUR", ValueError),
        (10.0, D("1"), "SO-1", "EUR", TypeError),
        (D("10"), D("1"), "  ", "EUR", ValueError),
        (D("10"), D("1"), "x" * 101, "EUR", ValueError),
        (D("10"), D("1"), "SO-1", "eur", ValueError),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(gross, commission, reference, currency, error):
    seller = SellerFactory()

    with pytest.raises(error):
        ledger_record_sale(
            seller_id=seller.pk, reference=reference, gross=gross, commission=commission, currency=currency
        )

    assert not LedgerEntry.objects.exists()


def test_the_database_refuses_an_entry_whose_sign_contradicts_its_kind():
    seller = SellerFactory()
    for kind, amount in [("sale", D("-1")), ("commission", D("1")), ("payout", D("5")), ("refund", D("0"))]:
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(
                seller=seller, kind=kind, amount=amount, reference="X", idempotency_key=f"{kind}:{amount}"
            )


@pytest.mark.django_db(transaction=True)
def test_the_same_sale_recorded_by_concurrent_workers_is_written_once():
    seller = SellerFactory()
    barrier = threading.Barrier(6)
    errors = []

    def record():
        try:
            barrier.wait(10)
            ledger_record_sale(seller_id=seller.pk, reference="SO-9", gross=D("10"), commission=D("1"), currency="EUR")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert LedgerEntry.objects.filter(seller=seller).count() == 2
    assert selectors.seller_balance(seller_id=seller.pk) == D("9.00")
