"""Money: a ``Decimal`` amount with a currency, never a float.

Amounts are stored as ``DecimalField(max_digits=12, decimal_places=2)`` beside a three-letter
``currency`` column (``MoneyField`` below and ``CurrencyField``); ``Money`` is the value used in code.
Arithmetic across currencies is an error, not a silent conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import models

DEFAULT_CURRENCY = getattr(settings, "DEFAULT_CURRENCY", "EUR")
CENT = Decimal("0.01")
MAX_DIGITS = 12  # up to 9,999,999,999.99: more than any one order


class CurrencyMismatch(ValueError):
    pass


def to_decimal(value: Decimal | int | str) -> Decimal:
    """A Decimal rounded to cents. Floats are refused: they cannot represent cents exactly."""
    if isinstance(value, float):
        raise TypeError("money is never a float; pass a Decimal, an int or a string")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not an amount of money: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount of money: {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"currency must be an ISO 4217 code such as EUR, not {self.currency!r}")

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Money:
        return cls(Decimal("0"), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply money by an int or a Decimal, never a float")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"

    def allocate(self, weights: list[Decimal | int]) -> list[Money]:
        """Split into parts proportional to ``weights`` that add up to exactly this amount.

        The cents lost to rounding go to the largest weights first, so a discount spread over order
        lines sums to the discount itself (partial refunds and commissions rely on it).
        """
        if not weights:
            return []
        total = sum(Decimal(w) for w in weights)
        if total <= 0:
            raise ValueError("weights must add up to more than zero")
        cents = int((self.amount / CENT).to_integral_value())
        shares = [int((Decimal(cents) * Decimal(w) / total).to_integral_value(rounding="ROUND_FLOOR")) for w in weights]
        remainder = cents - sum(shares)
        by_weight = sorted(range(len(weights)), key=lambda i: Decimal(weights[i]), reverse=True)
        for i in by_weight[: abs(remainder)]:
            shares[i] += 1 if remainder > 0 else -1
        return [Money(Decimal(share) * CENT, self.currency) for share in shares]


class MoneyField(models.DecimalField):
    """A money amount column (the currency lives in its own column beside it)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)


class CurrencyField(models.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("default", DEFAULT_CURRENCY)
        super().__init__(*args, **kwargs)
