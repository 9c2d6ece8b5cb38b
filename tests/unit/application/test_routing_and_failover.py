"""Routing a payment that names no channel, and failing over only when nothing was charged
(docs/adr/0025, docs/adr/0026)."""

from __future__ import annotations

import pytest

from application.errors import NotFound
from application.ports.channel import ChargeResult, Outcome
from domain.errors import InvalidChannel, InvalidRouting
from domain.payment import PaymentStatus
from domain.routing import AttemptOutcome, RoutingRule
from tests.unit.fakes import Gateway
from tests.unit.fakes.channel import DECLINED, PROCESSING_ERROR, TIMES_OUT, FakeChannel, declined

S = PaymentStatus
NOT_SENT = ChargeResult(Outcome.FAILED, None, "channel_unavailable", "connection refused")


@pytest.fixture
def backup(gateway: Gateway) -> FakeChannel:
    return gateway.add_channel("backup")


@pytest.fixture
async def routed(gateway: Gateway, merchant_id: str, backup: FakeChannel) -> str:
    await gateway.services.set_routing(
        merchant_id, [RoutingRule(channels=("sandbox", "backup"))])
    return merchant_id


def outcomes(payment: object) -> list[tuple[str, str, str | None]]:
    return [(a.channel, a.outcome.value, a.failure_code)
            for a in payment.attempts]  # type: ignore[attr-defined]


class TestRouting:
    async def test_a_named_channel_is_honoured_with_no_attempt_rows(
        self, gateway: Gateway, routed: str, backup: FakeChannel
    ) -> None:
        gateway.channel.script_charges(NOT_SENT)
        payment = await gateway.pay(routed, channel="sandbox")
        assert payment.status is S.FAILED
        assert payment.failure_code == "channel_unavailable"
        assert payment.attempt == 0
        assert not backup.charges
        assert gateway.db.attempts == {}

    async def test_without_rules_the_default_route_is_used(
        self, gateway: Gateway, merchant_id: str, backup: FakeChannel
    ) -> None:
        gateway.default_route = ("backup", "sandbox")
        payment = await gateway.pay(merchant_id, channel=None)
        assert payment.status is S.SUCCEEDED
        assert payment.channel == "backup"
        assert backup.charges == {payment.payment_no: 1}
        assert not gateway.channel.charges
        assert outcomes(gateway.db.payment(payment.payment_no)) == [
            ("backup", "succeeded", None)]

    async def test_the_first_matching_rule_routes(
        self, gateway: Gateway, merchant_id: str, backup: FakeChannel
    ) -> None:
        await gateway.services.set_routing(merchant_id, [
            RoutingRule(channels=("backup",), currency="EUR"),
            RoutingRule(channels=("sandbox",), min_amount=5000),
            RoutingRule(channels=("backup",)),
        ])
        big = await gateway.pay(merchant_id, channel=None, amount=5000)
        small = await gateway.pay(merchant_id, channel=None, amount=4999)
        euro = await gateway.pay(merchant_id, channel=None, amount=5000, currency="EUR")
        assert (big.channel, small.channel, euro.channel) == ("sandbox", "backup", "backup")

    async def test_a_route_of_channels_no_longer_configured_is_invalid_channel(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        gateway.default_route = ("gone",)
        with pytest.raises(InvalidChannel):
            await gateway.pay(merchant_id, channel=None)
        assert gateway.db.payments == {}

    async def test_a_channel_no_longer_configured_is_left_out_of_the_route(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        gateway.default_route = ("gone", "sandbox")
        payment = await gateway.pay(merchant_id, channel=None)
        assert payment.channel == "sandbox"
        assert payment.attempts[0].seq == 1


class TestFailover:
    async def test_not_sent_fails_over_to_the_next_channel_with_a_new_key(
        self, gateway: Gateway, routed: str, backup: FakeChannel
    ) -> None:
        heard: list[tuple[str, str, str]] = []
        gateway.channel.script_charges(NOT_SENT)
        use_case = gateway.services.create_payment
        from dataclasses import replace
        use_case = replace(use_case, on_failover=lambda *a: heard.append(a))
        payment = await use_case(gateway.payment_command(routed, channel=None))
        assert payment.status is S.SUCCEEDED
        assert payment.channel == "backup"
        assert gateway.channel.charges == {payment.payment_no: 1}
        assert backup.charges == {f"{payment.payment_no}.2": 1}
        assert heard == [("sandbox", "backup", "not_sent")]
        stored = gateway.db.payment(payment.payment_no)
        assert outcomes(stored) == [("sandbox", "failed", "channel_unavailable"),
                                    ("backup", "succeeded", None)]
        assert stored.attempt == 2
        assert gateway.merchant_balance(routed, "USD") == 10_000

    async def test_a_processing_error_fails_over(
        self, gateway: Gateway, routed: str, backup: FakeChannel
    ) -> None:
        payment = await gateway.pay(routed, PROCESSING_ERROR, channel=None)
        assert outcomes(payment)[0] == ("sandbox", "failed", "processing_error")
        assert len(backup.charges) == 1  # the fake backup fails the test card the same way
        assert payment.status is S.FAILED
        assert outcomes(payment)[1] == ("backup", "failed", "processing_error")

    async def test_a_decline_never_fails_over(
        self, gateway: Gateway, routed: str, backup: FakeChannel
    ) -> None:
        payment = await gateway.pay(routed, DECLINED, channel=None)
        assert payment.status is S.FAILED
        assert payment.failure_code == "card_declined"
        assert not backup.charges
        assert outcomes(gateway.db.payment(payment.payment_no)) == [
            ("sandbox", "failed", "card_declined")]

    async def test_an_unknown_code_never_fails_over(
        self, gateway: Gateway, routed: str, backup: FakeChannel
    ) -> None:
        gateway.channel.script_charges(declined("brand_new_code"))
        payment = await gateway.pay(routed, channel=None)
        assert payment.status is S.FAILED
        assert not backup.charges

    async def test_a_timeout_stays_processing_for_the_reconciler_on_its_channel(
        self, gateway: Gateway, routed: str, backup: FakeChannel
    ) -> None:
        payment = await gateway.pay(routed, TIMES_OUT, channel=None)
        assert payment.status is S.PROCESSING
        assert not backup.charges
        assert outcomes(gateway.db.payment(payment.payment_no)) == [
            ("sandbox", "unknown", None)]
        gateway.clock.advance(minutes=2)
        await gateway.reconcile()
        stored = gateway.db.payment(payment.payment_no)
        assert stored.status is S.SUCCEEDED
        assert outcomes(stored) == [("sandbox", "succeeded", None)]
        assert not backup.charges

    async def test_an_exception_from_the_channel_is_unknown_and_never_fails_over(
        self, gateway: Gateway, routed: str, backup: FakeChannel
    ) -> None:
        gateway.channel.script_charges(RuntimeError("socket closed mid-answer"))
        payment = await gateway.pay(routed, channel=None)
        assert payment.status is S.PROCESSING
        assert not backup.charges

    async def test_every_channel_unavailable_fails_with_the_last_answer(
        self, gateway: Gateway, routed: str, backup: FakeChannel
    ) -> None:
        gateway.channel.script_charges(NOT_SENT)
        backup.script_charges(NOT_SENT)
        payment = await gateway.pay(routed, channel=None)
        assert payment.status is S.FAILED
        assert payment.failure_code == "channel_unavailable"
        assert [a.outcome for a in payment.attempts] == [AttemptOutcome.FAILED] * 2

    async def test_a_timeout_on_the_second_attempt_is_reconciled_under_its_key(
        self, gateway: Gateway, routed: str, backup: FakeChannel
    ) -> None:
        gateway.channel.script_charges(NOT_SENT)
        backup.script_charges(ChargeResult(Outcome.UNKNOWN))
        payment = await gateway.pay(routed, channel=None)
        assert payment.status is S.PROCESSING
        gateway.clock.advance(minutes=2)
        await gateway.reconcile()
        stored = gateway.db.payment(payment.payment_no)
        assert stored.status is S.SUCCEEDED
        assert stored.channel == "backup"
        assert backup.charges == {f"{payment.payment_no}.2": 1}
        assert outcomes(stored)[-1] == ("backup", "succeeded", None)

    async def test_a_crash_between_attempts_is_finished_on_the_attempt_written(
        self, gateway: Gateway, routed: str, backup: FakeChannel
    ) -> None:
        """The failover was committed, then the process died before calling the backup:
        the reconciler asks the backup about attempt 2, finds nothing, and fails it."""
        gateway.channel.script_charges(NOT_SENT)
        backup.script_charges(SystemExit("the process died"))
        with pytest.raises(SystemExit):
            await gateway.pay(routed, channel=None)
        (payment_no,) = gateway.db.payments
        assert gateway.db.payment(payment_no).status is S.PENDING
        assert outcomes(gateway.db.payment(payment_no)) == [
            ("sandbox", "failed", "channel_unavailable"), ("backup", "pending", None)]
        backup.charge_truth.clear()  # the call never left the process
        gateway.clock.advance(minutes=2)
        await gateway.reconcile()
        stored = gateway.db.payment(payment_no)
        assert stored.status is S.FAILED
        assert outcomes(stored)[-1] == ("backup", "failed", "charge_not_found")
        assert not gateway.channel.charges.get(f"{payment_no}.2")

    async def test_a_failover_that_cannot_be_written_is_not_made(
        self, gateway: Gateway, routed: str, backup: FakeChannel
    ) -> None:
        gateway.channel.script_charges(NOT_SENT)

        async def database_down(request: object) -> None:
            gateway.db.down = True

        gateway.channel.before_answer = database_down
        payment = await gateway.pay(routed, channel=None)
        assert not backup.charges
        assert payment.channel == "sandbox"
        assert payment.attempt == 1
        assert len(payment.attempts) == 1
        gateway.db.down = False
        assert gateway.db.payment(payment.payment_no).status is S.PENDING

    async def test_refunds_go_to_the_channel_that_took_the_payment(
        self, gateway: Gateway, routed: str, backup: FakeChannel
    ) -> None:
        gateway.channel.script_charges(NOT_SENT)
        payment = await gateway.pay(routed, channel=None)
        await gateway.refund(payment.payment_no, 1000)
        assert len(backup.refunds) == 1
        assert not gateway.channel.refunds

    async def test_a_payment_held_for_review_is_charged_on_its_first_channel_only(
        self, gateway: Gateway, routed: str, backup: FakeChannel
    ) -> None:
        from tests.unit.fakes.external import REVIEW_CARD

        payment = await gateway.pay(routed, REVIEW_CARD, channel=None)
        assert payment.status is S.REQUIRES_REVIEW
        assert payment.channel == "sandbox"
        assert payment.attempt == 0
        assert gateway.db.attempts == {}


class TestRoutingRules:
    async def test_rules_are_read_back_as_set(self, gateway: Gateway, routed: str) -> None:
        assert await gateway.services.get_routing(routed) == [
            RoutingRule(channels=("sandbox", "backup"))]

    async def test_bad_rules_change_nothing(self, gateway: Gateway, routed: str) -> None:
        with pytest.raises(InvalidChannel):
            await gateway.services.set_routing(routed, [RoutingRule(channels=("adyen",))])
        with pytest.raises(InvalidRouting):
            await gateway.services.set_routing(routed, [RoutingRule(channels=())])
        assert await gateway.services.get_routing(routed) == [
            RoutingRule(channels=("sandbox", "backup"))]

    async def test_an_unknown_merchant_is_not_found(self, gateway: Gateway) -> None:
        with pytest.raises(NotFound):
            await gateway.services.set_routing("m_nobody", [])
        with pytest.raises(NotFound):
            await gateway.services.get_routing("m_nobody")
