"""Card details: used for one charge and then forgotten; only brand and last4 are kept."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.errors import InvalidCard

# (brand, first prefix, last prefix): a number whose leading digits, as many as the bounds
# have, lie between the two (inclusive) is of that brand. The ranges do not overlap.
_BIN_RANGES: tuple[tuple[str, str, str], ...] = (
    ("amex", "34", "34"),
    ("amex", "37", "37"),
    ("diners", "300", "305"),
    ("diners", "3095", "3095"),
    ("diners", "36", "36"),
    ("diners", "38", "39"),
    ("discover", "6011", "6011"),
    ("discover", "644", "649"),
    ("discover", "65", "65"),
    ("jcb", "3528", "3589"),
    ("mastercard", "51", "55"),
    ("mastercard", "2221", "2720"),
    ("unionpay", "62", "62"),
    ("visa", "4", "4"),
)
BRANDS = frozenset(brand for brand, _, _ in _BIN_RANGES) | {"unknown"}
"""Every brand `brand_of` may name."""


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def brand_of(number: str) -> str:
    for brand, first, last in _BIN_RANGES:
        if first <= number[: len(first)] <= last:
            return brand
    return "unknown"


@dataclass(frozen=True, slots=True)
class CardSummary:
    """What a payment keeps of a card."""

    brand: str
    last4: str


@dataclass(frozen=True, slots=True)
class CardDetails:
    """A full card, alive only for the duration of a charge. Its repr hides the number."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)

    def __post_init__(self) -> None:
        if not (self.number.isascii() and self.number.isdigit() and 12 <= len(self.number) <= 19):
            raise InvalidCard("card number must be 12 to 19 digits")
        if not luhn_valid(self.number):
            raise InvalidCard("card number fails the Luhn check")
        if not 1 <= self.exp_month <= 12:
            raise InvalidCard("exp_month must be between 1 and 12")
        if not 2000 <= self.exp_year <= 2100:
            raise InvalidCard("exp_year must be a four-digit year")
        if not (self.cvc.isascii() and self.cvc.isdigit() and 3 <= len(self.cvc) <= 4):
            raise InvalidCard("cvc must be 3 or 4 digits")

    def expired(self, year: int, month: int) -> bool:
        return (self.exp_year, self.exp_month) < (year, month)

    @property
    def summary(self) -> CardSummary:
        return CardSummary(brand=brand_of(self.number), last4=self.number[-4:])
