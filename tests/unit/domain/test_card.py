import dataclasses

import pytest

from domain.card import CardDetails, CardSummary, brand_of, luhn_valid
from domain.errors import InvalidCard


def with_check_digit(body: str) -> str:
    """`body` and the digit that makes it pass the Luhn check."""
    return next(body + digit for digit in "0123456789" if luhn_valid(body + digit))


def a_card(number: str = "4242424242424242", **overrides: object) -> CardDetails:
    values: dict[str, object] = {"exp_month": 12, "exp_year": 2030, "cvc": "987"}
    values.update(overrides)
    return CardDetails(number, **values)  # type: ignore[arg-type]


class TestLuhn:
    @pytest.mark.parametrize(
        "number",
        [
            "4242424242424242",
            "4000000000000002",
            "4000000000009995",
            "4000000000000119",
            "4000000000000259",
            "4000000000004954",
            "4100000000000019",
            "378282246310005",
            "5555555555554444",
        ],
    )
    def test_test_card_numbers_pass(self, number: str) -> None:
        assert luhn_valid(number)

    @pytest.mark.parametrize("number", ["4242424242424241", "4242424242424224", "1234567812345678"])
    def test_a_mistyped_number_fails(self, number: str) -> None:
        assert not luhn_valid(number)
        with pytest.raises(InvalidCard, match="Luhn"):
            a_card(number)


class TestBrand:
    @pytest.mark.parametrize(
        ("number", "brand"),
        [
            ("4242424242424242", "visa"),
            ("5555555555554444", "mastercard"),
            ("2223003122003222", "mastercard"),
            ("378282246310005", "amex"),
            ("6011111111111117", "discover"),
            ("3530111333300000", "jcb"),
            ("6200000000000005", "unionpay"),
            ("9999999999999995", "unknown"),
        ],
    )
    def test_brand_comes_from_the_number_prefix(self, number: str, brand: str) -> None:
        assert brand_of(number) == brand
        assert a_card(number).summary.brand == brand

    @pytest.mark.parametrize(
        ("prefix", "brand"),
        [
            ("4", "visa"),
            ("3999", "diners"),
            ("50", "unknown"),
            ("51", "mastercard"),
            ("55", "mastercard"),
            ("56", "unknown"),
            ("2220", "unknown"),
            ("2221", "mastercard"),
            ("2299", "mastercard"),
            ("2300", "mastercard"),
            ("2720", "mastercard"),
            ("2721", "unknown"),
            ("2200", "unknown"),
            ("2799", "unknown"),
            ("6010", "unknown"),
            ("6011", "discover"),
            ("6012", "unknown"),
            ("643", "unknown"),
            ("644", "discover"),
            ("649", "discover"),
            ("650", "discover"),  # outside 644-649, inside 65
            ("659", "discover"),
            ("66", "unknown"),
            ("33", "unknown"),
            ("34", "amex"),
            ("37", "amex"),
            ("2999", "unknown"),
            ("300", "diners"),
            ("305", "diners"),
            ("306", "unknown"),
            ("3094", "unknown"),
            ("3095", "diners"),
            ("3096", "unknown"),
            ("36", "diners"),
            ("38", "diners"),
            ("39", "diners"),
            ("3527", "unknown"),
            ("3528", "jcb"),
            ("3589", "jcb"),
            ("3590", "unknown"),
            ("61", "unknown"),
            ("62", "unionpay"),
            ("63", "unknown"),
        ],
    )
    def test_brand_ranges_at_their_edges(self, prefix: str, brand: str) -> None:
        number = with_check_digit(prefix.ljust(15, "0"))
        assert brand_of(number) == brand
        assert a_card(number).summary.brand == brand

    @pytest.mark.parametrize(
        ("number", "brand"),
        [
            ("30569309025904", "diners"),
            ("38520000023237", "diners"),
            ("36227206271667", "diners"),
            ("3566002020360505", "jcb"),
            ("6445644564456445", "discover"),
            ("2720992720992729", "mastercard"),
        ],
    )
    def test_full_length_numbers(self, number: str, brand: str) -> None:
        assert brand_of(number) == brand
        assert a_card(number).summary.brand == brand


class TestCardDetails:
    def test_summary_keeps_only_brand_and_last4(self) -> None:
        summary = a_card("4000000000009995").summary
        assert summary == CardSummary(brand="visa", last4="9995")
        assert [f.name for f in dataclasses.fields(CardSummary)] == ["brand", "last4"]

    def test_repr_hides_the_number_and_the_cvc(self) -> None:
        card = a_card("4000000000009995", cvc="987")
        for text in (repr(card), str(card)):
            assert "4000000000009995" not in text
            assert "987" not in text
            assert "2030" in text

    @pytest.mark.parametrize(
        ("number", "overrides", "reason"),
        [
            ("42424242424", {}, "12 to 19 digits"),
            ("42424242424242424242", {}, "12 to 19 digits"),
            ("4242 4242 4242 4242", {}, "12 to 19 digits"),
            ("\uff14\uff12" * 8, {}, "12 to 19 digits"),  # full-width digits
            ("4242424242424242", {"exp_month": 0}, "exp_month"),
            ("4242424242424242", {"exp_month": 13}, "exp_month"),
            ("4242424242424242", {"exp_year": 1999}, "exp_year"),
            ("4242424242424242", {"exp_year": 2101}, "exp_year"),
            ("4242424242424242", {"cvc": "12"}, "cvc"),
            ("4242424242424242", {"cvc": "12345"}, "cvc"),
            ("4242424242424242", {"cvc": "1a3"}, "cvc"),
        ],
    )
    def test_malformed_card_is_a_validation_error(
        self, number: str, overrides: dict[str, object], reason: str
    ) -> None:
        with pytest.raises(InvalidCard, match=reason) as error:
            a_card(number, **overrides)
        assert error.value.code == "validation_error"

    def test_card_expires_after_its_expiry_month(self) -> None:
        card = a_card(exp_month=12, exp_year=2030)
        assert not card.expired(2030, 11)
        assert not card.expired(2030, 12)
        assert card.expired(2031, 1)
