"""Money as integer minor units of an ISO 4217 currency.

Floats never enter: an amount is an `int` of the currency's minor unit (cents for USD,
yen for JPY, fils for KWD). Major units exist only for display and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.errors import InvalidAmount, InvalidCurrency

# ISO 4217 active currencies and the number of digits of their minor unit.
# fmt: off
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
         "UYI", "VND", "VUV", "XAF", "XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(
        ("AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD",
         "BDT", "BGN", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
         "CDF", "CHF", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP",
         "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD",
         "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR",
         "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD",
         "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN",
         "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON",
         "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD",
         "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD",
         "TZS", "UAH", "USD", "UYU", "UZS", "VES", "WST", "XCD", "YER", "ZAR", "ZMW", "ZWL"),
        2,
    ),
}
# fmt: on

MAX_MINOR_UNITS = 2**63 - 1  # what a BIGINT column holds
MAX_PAYMENT_MINOR_UNITS = 10**12 - 1
"""The largest payment or refund: twelve digits (9,999,999,999.99 USD, 999,999,999,999 JPY).
Sums stay inside a BIGINT: a merchant's settlement day could hold nine million of them."""


def exponent_of(currency: str) -> int:
    """The minor-unit exponent of an ISO 4217 code; `InvalidCurrency` for anything else."""
    if not isinstance(currency, str) or currency not in _EXPONENTS:
        raise InvalidCurrency(
            f"unknown currency {currency!r}: expected an ISO 4217 code such as USD"
        )
    return _EXPONENTS[currency]


def is_currency(currency: str) -> bool:
    return currency in _EXPONENTS


def check_minor_units(amount: Any, *, positive: bool = False) -> int:
    """Return `amount` if it is an integer count of minor units, else raise `InvalidAmount`.

    `bool` is rejected although it subclasses `int`, and floats are never rounded. A
    `positive` amount is one payment or refund: at most `MAX_PAYMENT_MINOR_UNITS`.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        kind = type(amount).__name__
        raise InvalidAmount(f"amount must be an integer of minor units, not {kind}")
    if amount < 0:
        raise InvalidAmount(f"amount must not be negative, got {amount}")
    if positive and amount == 0:
        raise InvalidAmount("amount must be greater than zero")
    if positive and amount > MAX_PAYMENT_MINOR_UNITS:
        raise InvalidAmount(f"amount must be at most {MAX_PAYMENT_MINOR_UNITS}")
    if amount > MAX_MINOR_UNITS:
        raise InvalidAmount(f"amount must be at most {MAX_MINOR_UNITS}")
    return amount


@dataclass(frozen=True, slots=True)
class Money:
    """A non-negative amount of one currency, in minor units."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        exponent_of(self.currency)
        check_minor_units(self.amount)

    @classmethod
    def positive(cls, amount: Any, currency: str) -> Money:
        """Money for a charge or a refund: strictly greater than zero."""
        exponent_of(currency)
        return cls(check_minor_units(amount, positive=True), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @property
    def exponent(self) -> int:
        return _EXPONENTS[self.currency]

    def to_major(self) -> Decimal:
        """Exact major units, e.g. Money(1050, "USD").to_major() == Decimal("10.50")."""
        return Decimal(self.amount).scaleb(-self.exponent)

    def major_float(self) -> float:
        """Major units as a float, for metrics only (never for arithmetic)."""
        return self.amount / float(10**self.exponent)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        if other.amount > self.amount:
            raise InvalidAmount(f"cannot subtract {other} from {self}: money is never negative")
        return Money(self.amount - other.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidCurrency(f"cannot combine {self.currency} with {other.currency}")

    def __str__(self) -> str:
        return f"{self.to_major()} {self.currency}"
