"""The built-in risk rules, each on its own, and the thresholds that turn score into verdict."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.risk import CardFingerprinter, RiskSettings, RuleEngine, VelocityRule
from adapters.risk.settings import Dimension
from application.ports.external import RiskRequest
from domain.card import CardDetails
from domain.money import Money
from domain.risk import Verdict

KEY = "unit-test-fingerprint-key"
VISA = "4242424242424242"
MASTERCARD = "5555555555554444"


def settings(**overrides: Any) -> RiskSettings:
    return RiskSettings.from_mapping({"fingerprint_key": KEY, **overrides})


def request(
    number: str | None = VISA,
    amount: int = 10_000,
    currency: str = "USD",
    payment_no: str = "pay_1",
    order_no: str | None = None,
    merchant_id: str = "mer_1",
    **customer: str,
) -> RiskRequest:
    """A request for `payment_no`, of its own order unless `order_no` says otherwise."""
    card = CardDetails(number, 12, 2030, "123") if number else None
    defaults = {"customer_id": "cus_1", "email": "a@example.com", "ip": "203.0.113.7"}
    return RiskRequest(
        merchant_id,
        payment_no,
        order_no or f"ORDER-{payment_no}",
        Money(amount, currency),
        card,
        **{**defaults, **customer},
    )


class TestContractTestCards:
    async def test_a_normal_card_is_approved_with_a_low_score(self) -> None:
        decision = await RuleEngine(settings()).assess(request(VISA))
        assert (decision.verdict, decision.score, decision.reasons) == (Verdict.APPROVE, 0, ())

    async def test_the_review_test_card_goes_to_manual_review(self) -> None:
        decision = await RuleEngine(settings()).assess(request("4000000000004954"))
        assert decision.verdict is Verdict.REVIEW
        assert decision.reasons == ("card_on_review_list",)

    async def test_the_reject_test_card_is_rejected(self) -> None:
        decision = await RuleEngine(settings()).assess(request("4100000000000019"))
        assert (decision.verdict, decision.score) == (Verdict.REJECT, 100)
        assert decision.reasons == ("card_blocked",)

    async def test_test_cards_can_be_switched_off_for_production(self) -> None:
        engine = RuleEngine(settings(sandbox_test_cards=False))
        decision = await engine.assess(request("4100000000000019"))
        assert decision.verdict is Verdict.APPROVE


class TestLists:
    async def test_a_blocked_card_fingerprint_is_rejected(self) -> None:
        blocked = CardFingerprinter(KEY).of(MASTERCARD)
        decision = await RuleEngine(settings(blocked_cards=[blocked])).assess(request(MASTERCARD))
        assert decision.verdict is Verdict.REJECT
        assert "card_blocked" in decision.reasons

    async def test_a_blocked_email_domain_is_rejected_whatever_its_case(self) -> None:
        engine = RuleEngine(settings(blocked_email_domains=["Mailinator.com"]))
        decision = await engine.assess(request(email="x@MAILINATOR.COM"))
        assert (decision.verdict, decision.reasons) == (Verdict.REJECT, ("email_domain_blocked",))

    async def test_an_ip_inside_a_blocked_network_is_rejected(self) -> None:
        engine = RuleEngine(settings(blocked_ips=["198.51.100.0/24"]))
        decision = await engine.assess(request(ip="198.51.100.77"))
        assert (decision.verdict, decision.reasons) == (Verdict.REJECT, ("ip_blocked",))

    async def test_an_unparseable_ip_is_not_a_blocked_one(self) -> None:
        engine = RuleEngine(settings(blocked_ips=["198.51.100.0/24"]))
        decision = await engine.assess(request(ip="not-an-ip"))
        assert decision.verdict is Verdict.APPROVE


class TestAmountLimits:
    async def test_an_amount_at_the_limit_is_approved(self) -> None:
        engine = RuleEngine(settings(amount_limits={"USD": 50_000}))
        assert (await engine.assess(request(amount=50_000))).verdict is Verdict.APPROVE

    async def test_an_amount_over_the_currency_limit_is_rejected(self) -> None:
        engine = RuleEngine(settings(amount_limits={"USD": 50_000}))
        decision = await engine.assess(request(amount=50_001))
        assert (decision.verdict, decision.reasons) == (Verdict.REJECT, ("amount_over_limit",))

    async def test_limits_are_per_currency(self) -> None:
        engine = RuleEngine(settings(amount_limits={"USD": 50_000}))
        assert (await engine.assess(request(amount=90_000, currency="JPY"))).score == 0


class TestScoreAndThresholds:
    async def test_a_payment_with_no_customer_data_scores_a_little_but_is_approved(self) -> None:
        decision = await RuleEngine(settings()).assess(
            RiskRequest("mer_1", "pay_1", "O-1", Money(100, "USD"))
        )
        assert (decision.verdict, decision.score) == (Verdict.APPROVE, 10)
        assert decision.reasons == ("no_customer_data",)

    @pytest.mark.parametrize(
        ("points", "verdict"),
        [(49, Verdict.APPROVE), (50, Verdict.REVIEW), (79, Verdict.REVIEW), (80, Verdict.REJECT)],
    )
    async def test_thresholds_turn_the_score_into_a_verdict(
        self, points: int, verdict: Verdict
    ) -> None:
        engine = RuleEngine(settings(amount_limits={"USD": 1}, amount_limit_points=points))
        decision = await engine.assess(request(amount=2))
        assert (decision.score, decision.verdict) == (points, verdict)

    async def test_points_add_up_and_the_score_is_capped_at_100(self) -> None:
        engine = RuleEngine(
            settings(blocked_email_domains=["example.com"], blocked_ips=["203.0.113.7"])
        )
        decision = await engine.assess(request())
        assert decision.score == 100
        assert decision.reasons == ("email_domain_blocked", "ip_blocked")


class TestVelocity:
    @pytest.mark.parametrize("dimension", ["card", "customer", "ip"])
    async def test_the_payment_after_max_count_within_the_window_is_flagged(
        self, dimension: Dimension
    ) -> None:
        rule = VelocityRule(dimension, window_seconds=60, max_count=2, points=60)
        engine = RuleEngine(settings(velocity=[rule]), clock=lambda: 100.0)
        verdicts = [(await engine.assess(request(payment_no=f"pay_{n}"))).verdict for n in range(3)]
        assert verdicts == [Verdict.APPROVE, Verdict.APPROVE, Verdict.REVIEW]

    async def test_old_payments_leave_the_window(self) -> None:
        now = [0.0]
        rule = VelocityRule("card", window_seconds=60, max_count=1, points=60)
        engine = RuleEngine(settings(velocity=[rule]), clock=lambda: now[0])
        await engine.assess(request(payment_no="pay_1"))
        now[0] = 61.0
        assert (await engine.assess(request(payment_no="pay_2"))).verdict is Verdict.APPROVE

    async def test_assessing_the_same_payment_again_does_not_count_twice(self) -> None:
        rule = VelocityRule("card", window_seconds=60, max_count=1, points=60)
        engine = RuleEngine(settings(velocity=[rule]), clock=lambda: 5.0)
        first = await engine.assess(request(payment_no="pay_1"))
        again = await engine.assess(request(payment_no="pay_1"))
        assert (first.verdict, again.verdict) == (Verdict.APPROVE, Verdict.APPROVE)

    async def test_a_duplicate_of_an_order_does_not_count_as_another_payment(self) -> None:
        # a merchant resending an order_no already used gets a new payment_no, then is
        # refused as a duplicate: it must not push the card towards review
        rule = VelocityRule("card", window_seconds=60, max_count=1, points=60)
        engine = RuleEngine(settings(velocity=[rule]), clock=lambda: 5.0)
        await engine.assess(request(payment_no="pay_1", order_no="ORDER-A"))
        duplicate = await engine.assess(request(payment_no="pay_2", order_no="ORDER-A"))
        assert duplicate.verdict is Verdict.APPROVE
        another = await engine.assess(request(payment_no="pay_3", order_no="ORDER-B"))
        assert another.verdict is Verdict.REVIEW

    async def test_the_same_order_no_of_two_merchants_counts_twice(self) -> None:
        rule = VelocityRule("card", window_seconds=60, max_count=1, points=60)
        engine = RuleEngine(settings(velocity=[rule]), clock=lambda: 5.0)
        await engine.assess(request(payment_no="pay_1", order_no="ORDER-A"))
        theirs = request(payment_no="pay_2", order_no="ORDER-A", merchant_id="mer_2")
        assert (await engine.assess(theirs)).verdict is Verdict.REVIEW

    async def test_other_cards_have_their_own_count(self) -> None:
        rule = VelocityRule("card", window_seconds=60, max_count=1, points=60)
        engine = RuleEngine(settings(velocity=[rule]), clock=lambda: 5.0)
        await engine.assess(request(VISA, payment_no="pay_1"))
        other = await engine.assess(request(MASTERCARD, payment_no="pay_2"))
        assert other.verdict is Verdict.APPROVE

    async def test_customers_of_different_merchants_are_counted_apart(self) -> None:
        rule = VelocityRule("customer", window_seconds=60, max_count=1, points=60)
        engine = RuleEngine(settings(velocity=[rule]), clock=lambda: 5.0)
        await engine.assess(request(payment_no="pay_1"))
        other = RiskRequest("mer_2", "pay_2", "O", Money(1, "USD"), customer_id="cus_1")
        assert (await engine.assess(other)).verdict is Verdict.APPROVE
