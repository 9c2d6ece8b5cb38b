"""The routing decision and the failover rule, pure (docs/adr/0025, docs/adr/0026)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import InvalidChannel, InvalidRouting
from domain.money import Money
from domain.routing import (
    MAX_CHANNELS,
    MAX_RULES,
    Attempt,
    AttemptOutcome,
    FailureClass,
    RoutingRule,
    attempt_key,
    check_channels,
    check_rules,
    classify,
    may_fail_over,
    payment_of_key,
    route,
)

KNOWN = ("sandbox", "stripe", "backup")
DEFAULT = ("sandbox",)


def usd(amount: int) -> Money:
    return Money(amount, "USD")


class TestMatching:
    def test_a_rule_with_nothing_set_matches_everything(self) -> None:
        rule = RoutingRule(channels=("stripe",))
        assert rule.matches(usd(1), None)
        assert rule.matches(Money(1, "JPY"), "visa")

    def test_currency_must_be_equal_when_set(self) -> None:
        rule = RoutingRule(channels=("stripe",), currency="EUR")
        assert rule.matches(Money(100, "EUR"), "visa")
        assert not rule.matches(usd(100), "visa")

    @pytest.mark.parametrize(("amount", "matches"), [(999, False), (1000, True), (1001, True)])
    def test_min_amount_is_inclusive(self, amount: int, matches: bool) -> None:
        rule = RoutingRule(channels=("stripe",), min_amount=1000)
        assert rule.matches(usd(amount), None) is matches

    @pytest.mark.parametrize(("amount", "matches"), [(4999, True), (5000, False), (5001, False)])
    def test_max_amount_is_exclusive(self, amount: int, matches: bool) -> None:
        rule = RoutingRule(channels=("stripe",), max_amount=5000)
        assert rule.matches(usd(amount), None) is matches

    @pytest.mark.parametrize(
        ("amount", "matches"), [(99, False), (100, True), (199, True), (200, False)]
    )
    def test_both_bounds_make_a_half_open_range(self, amount: int, matches: bool) -> None:
        rule = RoutingRule(channels=("stripe",), min_amount=100, max_amount=200)
        assert rule.matches(usd(amount), None) is matches

    def test_zero_bounds_are_bounds(self) -> None:
        assert not RoutingRule(channels=("s",), max_amount=0).matches(usd(1), None)
        assert RoutingRule(channels=("s",), min_amount=0).matches(usd(1), None)

    def test_card_brand_must_be_equal_when_set(self) -> None:
        rule = RoutingRule(channels=("stripe",), card_brand="visa")
        assert rule.matches(usd(1), "visa")
        assert not rule.matches(usd(1), "mastercard")
        assert not rule.matches(usd(1), None)

    def test_every_field_set_must_all_match(self) -> None:
        rule = RoutingRule(channels=("stripe",), currency="USD", min_amount=10, max_amount=20,
                           card_brand="visa")
        assert rule.matches(usd(15), "visa")
        assert not rule.matches(Money(15, "EUR"), "visa")
        assert not rule.matches(usd(9), "visa")
        assert not rule.matches(usd(20), "visa")
        assert not rule.matches(usd(15), "amex")


class TestRoute:
    def test_no_rules_is_the_default_route(self) -> None:
        assert route([], ("sandbox", "backup"), usd(1), "visa") == ("sandbox", "backup")

    def test_the_first_matching_rule_wins(self) -> None:
        rules = [
            RoutingRule(channels=("stripe",), currency="EUR"),
            RoutingRule(channels=("backup", "sandbox"), max_amount=1000),
            RoutingRule(channels=("sandbox",)),
        ]
        assert route(rules, DEFAULT, usd(999), None) == ("backup", "sandbox")
        assert route(rules, DEFAULT, usd(1000), None) == ("sandbox",)
        assert route(rules, DEFAULT, Money(5, "EUR"), None) == ("stripe",)

    def test_no_matching_rule_is_the_default_route(self) -> None:
        rules = [RoutingRule(channels=("stripe",), currency="EUR")]
        assert route(rules, ("backup",), usd(1), None) == ("backup",)


class TestValidation:
    def test_a_good_rule_comes_back_as_given(self) -> None:
        rule = RoutingRule(channels=("stripe", "sandbox"), currency="USD", min_amount=0,
                           max_amount=1, card_brand="visa")
        assert check_rules([rule], KNOWN) == (rule,)

    def test_an_empty_channel_list_is_refused(self) -> None:
        with pytest.raises(InvalidRouting, match="at least one channel") as error:
            check_rules([RoutingRule(channels=())], KNOWN)
        assert error.value.code == "validation_error"

    def test_an_unknown_channel_is_invalid_channel(self) -> None:
        with pytest.raises(InvalidChannel, match="'adyen'") as error:
            check_rules([RoutingRule(channels=("sandbox", "adyen"))], KNOWN)
        assert error.value.code == "invalid_channel"

    def test_a_channel_listed_twice_is_refused(self) -> None:
        with pytest.raises(InvalidRouting, match="twice"):
            check_rules([RoutingRule(channels=("sandbox", "sandbox"))], KNOWN)

    def test_a_channel_must_be_a_string(self) -> None:
        with pytest.raises(InvalidRouting, match="string"):
            check_channels([1], KNOWN, "default")
        with pytest.raises(InvalidRouting, match="at least one"):
            check_channels("sandbox", KNOWN, "default")

    def test_at_most_max_channels(self) -> None:
        names = [f"c{i}" for i in range(MAX_CHANNELS + 1)]
        assert check_channels(names[:MAX_CHANNELS], names, "r") == tuple(names[:MAX_CHANNELS])
        with pytest.raises(InvalidRouting, match=f"at most {MAX_CHANNELS}"):
            check_channels(names, names, "r")

    @pytest.mark.parametrize(("low", "high"), [(5000, 4999), (5000, 5000)])
    def test_bounds_written_backwards_or_empty_are_refused(self, low: int, high: int) -> None:
        with pytest.raises(InvalidRouting, match="must be below") as error:
            check_rules([RoutingRule(channels=("sandbox",), min_amount=low, max_amount=high)],
                        KNOWN)
        assert error.value.details["rule"] == 0

    def test_one_bound_alone_is_accepted(self) -> None:
        low = RoutingRule(channels=("sandbox",), min_amount=5000)
        high = RoutingRule(channels=("sandbox",), max_amount=1)
        assert check_rules([low, high], KNOWN) == (low, high)

    def test_the_contract_limits(self) -> None:
        assert (MAX_RULES, MAX_CHANNELS) == (100, 10)

    def test_bounds_one_apart_are_accepted(self) -> None:
        rule = RoutingRule(channels=("sandbox",), min_amount=4999, max_amount=5000)
        assert check_rules([rule], KNOWN) == (rule,)

    @pytest.mark.parametrize("field", ["min_amount", "max_amount"])
    @pytest.mark.parametrize("value", [-1, 1.5, True, "10"])
    def test_bounds_are_whole_minor_units_not_below_zero(self, field: str, value: object) -> None:
        rule = RoutingRule(channels=("sandbox",), **{field: value})  # type: ignore[arg-type]
        with pytest.raises(InvalidRouting, match=field):
            check_rules([rule], KNOWN)

    def test_an_unknown_currency_is_refused(self) -> None:
        with pytest.raises(InvalidRouting, match="currency"):
            check_rules([RoutingRule(channels=("sandbox",), currency="usd")], KNOWN)

    def test_an_unknown_card_brand_is_refused(self) -> None:
        with pytest.raises(InvalidRouting, match="card_brand"):
            check_rules([RoutingRule(channels=("sandbox",), card_brand="Visa")], KNOWN)

    def test_the_rule_that_is_bad_is_named(self) -> None:
        rules = [RoutingRule(channels=("sandbox",)), RoutingRule(channels=())]
        with pytest.raises(InvalidRouting, match="rule 1"):
            check_rules(rules, KNOWN)

    def test_at_most_max_rules(self) -> None:
        rules = [RoutingRule(channels=("sandbox",))] * MAX_RULES
        assert len(check_rules(rules, KNOWN)) == MAX_RULES
        with pytest.raises(InvalidRouting, match=f"at most {MAX_RULES} rules"):
            check_rules([*rules, RoutingRule(channels=("sandbox",))], KNOWN)

    def test_no_rules_is_allowed(self) -> None:
        assert check_rules([], KNOWN) == ()


class TestFailoverRule:
    def test_success_is_not_a_failure(self) -> None:
        assert classify("succeeded", None) is None
        assert not may_fail_over(None)

    @pytest.mark.parametrize(
        ("outcome", "code", "failure", "fails_over"),
        [
            ("failed", "channel_unavailable", FailureClass.NOT_SENT, True),
            ("failed", "processing_error", FailureClass.NOTHING_DONE, True),
            ("failed", "channel_error", FailureClass.NOTHING_DONE, True),
            ("failed", "invalid_request", FailureClass.NOTHING_DONE, True),
            ("failed", "card_declined", FailureClass.DECLINED, False),
            ("failed", "insufficient_funds", FailureClass.DECLINED, False),
            ("failed", "expired_card", FailureClass.DECLINED, False),
            ("failed", "authentication_required", FailureClass.DECLINED, False),
            ("failed", "something_new", FailureClass.DECLINED, False),
            ("failed", None, FailureClass.DECLINED, False),
            ("unknown", None, FailureClass.UNKNOWN, False),
            ("unknown", "channel_unavailable", FailureClass.UNKNOWN, False),
            ("unknown", "processing_error", FailureClass.UNKNOWN, False),
        ],
    )
    def test_only_what_certainly_charged_nothing_fails_over(
        self, outcome: str, code: str | None, failure: FailureClass, fails_over: bool
    ) -> None:
        assert classify(outcome, code) is failure
        assert may_fail_over(failure) is fails_over


class TestAttempts:
    def test_the_first_attempt_key_is_the_payment_number(self) -> None:
        assert attempt_key("pay_1", 1) == "pay_1"
        assert attempt_key("pay_1", 2) == "pay_1.2"
        with pytest.raises(ValueError, match="from 1"):
            attempt_key("pay_1", 0)

    @pytest.mark.parametrize("seq", [1, 2, 10])
    def test_an_attempt_key_names_its_payment(self, seq: int) -> None:
        assert payment_of_key(attempt_key("pay_ab12", seq)) == "pay_ab12"

    def test_a_key_without_an_attempt_suffix_is_the_payment(self) -> None:
        assert payment_of_key("pay.x") == "pay.x"
        assert payment_of_key("12345") == "12345"
        assert payment_of_key("pay.") == "pay."

    def test_an_attempt_ends_with_a_failure_code_only_when_failed(self) -> None:
        attempt = Attempt(payment_no="pay_1", seq=2, channel="backup",
                          started_at=datetime(2026, 1, 1, tzinfo=UTC))
        assert attempt.outcome is AttemptOutcome.PENDING
        assert attempt.key == "pay_1.2"
        attempt.end(AttemptOutcome.FAILED, "card_declined")
        assert (attempt.outcome, attempt.failure_code) == (AttemptOutcome.FAILED, "card_declined")
        attempt.end(AttemptOutcome.UNKNOWN, "x")
        assert attempt.failure_code is None
