from decimal import Decimal

import pytest

from shop.core.money import CurrencyMismatch, Money


def test_money_rounds_to_cents_and_refuses_floats():
    assert Money(Decimal("1.005")).amount == Decimal("1.01")
    assert Money("19.99", "USD") + Money("0.01", "USD") == Money("20.00", "USD")
    with pytest.raises(TypeError):
        Money(0.1)
    with pytest.raises(TypeError):
        Money("1.00") * 1.5


def test_money_of_different_currencies_does_not_mix():
    with pytest.raises(CurrencyMismatch):
        Money("1", "EUR") + Money("1", "USD")


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", ""])
def test_money_refuses_what_is_not_an_amount(bad):
    with pytest.raises(ValueError, match="not an amount"):
        Money(bad)


@pytest.mark.parametrize(
    ("total", "weights"),
    [
        ("10.00", [1, 1, 1]),
        ("0.05", [3, 1]),
        ("99.99", [Decimal("19.99"), Decimal("5.01"), Decimal("75")]),
        ("-7.00", [1, 2]),
    ],
)
def test_allocation_adds_up_to_the_total_exactly(total, weights):
    parts = Money(total).allocate(weights)
    assert sum((p.amount for p in parts), Decimal("0")) == Decimal(total)
    assert len(parts) == len(weights)


def test_allocation_gives_rounding_cents_to_the_largest_weight():
    assert [p.amount for p in Money("10.00").allocate([1, 2])] == [Decimal("3.33"), Decimal("6.67")]
