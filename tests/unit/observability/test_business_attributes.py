"""What `business_attributes` reads from a command or a result."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain.money import Money
from observability.attributes import business_attributes


@dataclass(frozen=True)
class Command:
    amount: object
    currency: str | None = "USD"


@pytest.mark.parametrize(("amount", "shown"), [
    (2**63 - 1, 2**63 - 1), (-(2**63), -(2**63)), (0, 0),
    (2**63, None), (-(2**63) - 1, None), (10**30, None),  # refused input, no int64
    (True, None), (10.5, None), ("100", None),
])
def test_an_amount_is_shown_only_as_an_int64(amount: object, shown: int | None) -> None:
    attributes = business_attributes(Command(amount))
    assert attributes.get("amount") == shown
    assert attributes["currency"] == "USD"


def test_a_money_gives_its_minor_units_and_its_currency() -> None:
    assert business_attributes(Command(Money(1050, "EUR"), currency=None)) == {
        "amount": 1050, "currency": "EUR"}


def test_the_objects_own_currency_wins_over_its_moneys() -> None:
    assert business_attributes(Command(Money(1050, "EUR"), currency="USD"))["currency"] == "USD"
