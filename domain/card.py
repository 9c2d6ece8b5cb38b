"""Card details: used for one charge and then forgotten; only brand and last4 are kept."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.errors import InvalidCard

_BRANDS = (
    ("amex", ("34", "37")),
    ("mastercard", ("51", "52", "53", "54", "55", "22", "23", "24", "25", "26", "27")),
    ("discover", ("6011", "65")),
    ("jcb", ("35",)),
    ("unionpay", ("62",)),
    ("visa", ("4",)),
)


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def brand_of(number: str) -> str:
    for brand, prefixes in _BRANDS:
        if number.startswith(prefixes):
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
