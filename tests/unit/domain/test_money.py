from decimal import Decimal

import pytest

from domain.errors import DomainError, InvalidAmount, InvalidCurrency
from domain.money import (
    MAX_MINOR_UNITS,
    MAX_PAYMENT_MINOR_UNITS,
    Money,
    check_minor_units,
    exponent_of,
    is_currency,
)


class TestCurrencies:
    @pytest.mark.parametrize(
        ("currency", "exponent"), [("JPY", 0), ("USD", 2), ("KWD", 3), ("BHD", 3), ("EUR", 2)]
    )
    def test_minor_unit_exponent_follows_iso_4217(self, currency: str, exponent: int) -> None:
        assert exponent_of(currency) == exponent
        assert Money(1, currency).exponent == exponent

    @pytest.mark.parametrize("currency", ["XXX", "usd", "US", "", 840, None])
    def test_unknown_currency_is_rejected_with_invalid_currency(self, currency: object) -> None:
        with pytest.raises(InvalidCurrency) as error:
            Money(100, currency)  # type: ignore[arg-type]
        assert error.value.code == "invalid_currency"
        assert is_currency("USD")
        assert not is_currency("usd")


class TestAmounts:
    @pytest.mark.parametrize("amount", [10.0, 10.5, Decimal("10"), "10", True, False, None])
    def test_anything_but_an_int_is_rejected_with_invalid_amount(self, amount: object) -> None:
        with pytest.raises(InvalidAmount) as error:
            Money(amount, "USD")  # type: ignore[arg-type]
        assert error.value.code == "invalid_amount"

    def test_negative_amount_is_rejected(self) -> None:
        with pytest.raises(InvalidAmount, match="negative"):
            Money(-1, "USD")

    def test_zero_is_money_but_not_a_positive_amount(self) -> None:
        assert Money(0, "USD") == Money.zero("USD")
        with pytest.raises(InvalidAmount, match="greater than zero"):
            Money.positive(0, "USD")

    def test_largest_amount_is_what_a_bigint_holds(self) -> None:
        assert Money(MAX_MINOR_UNITS, "USD").amount == 2**63 - 1
        with pytest.raises(InvalidAmount, match="at most"):
            Money(2**63, "USD")

    def test_a_payment_or_refund_has_at_most_twelve_digits(self) -> None:
        """So a merchant's day of payments sums far inside a BIGINT (settlement, ledger)."""
        assert Money.positive(999_999_999_999, "CHF").amount == MAX_PAYMENT_MINOR_UNITS
        for amount in (MAX_PAYMENT_MINOR_UNITS + 1, MAX_MINOR_UNITS):
            with pytest.raises(InvalidAmount, match="at most 999999999999"):
                Money.positive(amount, "CHF")
        with pytest.raises(InvalidAmount, match="at most 999999999999"):
            check_minor_units(MAX_PAYMENT_MINOR_UNITS + 1, positive=True)

    def test_positive_amount_keeps_the_exact_integer(self) -> None:
        assert Money.positive(1, "JPY") == Money(1, "JPY")
        assert check_minor_units(0) == 0

    def test_positive_checks_the_currency_before_the_amount(self) -> None:
        with pytest.raises(InvalidCurrency):
            Money.positive(1.5, "XXX")

    def test_error_reads_as_code_then_message(self) -> None:
        error = InvalidAmount("amount must not be negative", given=-1)
        assert str(error) == "invalid_amount: amount must not be negative"
        assert error.details == {"given": -1}
        assert isinstance(error, DomainError)


class TestMajorUnits:
    @pytest.mark.parametrize(
        ("money", "major"),
        [
            (Money(1050, "USD"), Decimal("10.50")),
            (Money(1050, "JPY"), Decimal("1050")),
            (Money(1050, "KWD"), Decimal("1.050")),
            (Money(1, "BHD"), Decimal("0.001")),
            (Money(MAX_MINOR_UNITS, "USD"), Decimal("92233720368547758.07")),
        ],
    )
    def test_to_major_is_exact(self, money: Money, major: Decimal) -> None:
        assert money.to_major() == major
        assert str(money.to_major()) == str(major)

    def test_major_float_is_for_metrics(self) -> None:
        assert Money(1050, "USD").major_float() == 10.5
        assert Money(500, "JPY").major_float() == 500.0
        assert Money(1, "KWD").major_float() == 0.001

    def test_str_shows_major_units_and_currency(self) -> None:
        assert str(Money(1050, "USD")) == "10.50 USD"
        assert str(Money(7, "JPY")) == "7 JPY"


class TestArithmetic:
    def test_adding_same_currency_sums_minor_units(self) -> None:
        assert Money(1050, "USD") + Money(25, "USD") == Money(1075, "USD")

    def test_subtracting_same_currency(self) -> None:
        assert Money(1050, "USD") - Money(50, "USD") == Money(1000, "USD")
        assert Money(50, "USD") - Money(50, "USD") == Money.zero("USD")

    def test_money_never_goes_negative(self) -> None:
        with pytest.raises(InvalidAmount, match="never negative"):
            Money(50, "USD") - Money(51, "USD")

    @pytest.mark.parametrize(
        "combine", [lambda a, b: a + b, lambda a, b: a - b], ids=["add", "subtract"]
    )
    def test_different_currencies_never_combine(self, combine) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(InvalidCurrency, match="cannot combine USD with EUR"):
            combine(Money(100, "USD"), Money(1, "EUR"))
