"""Authorizing a manual payment, then capturing it: the use cases over fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.commands import SettleCommand
from application.errors import NotFound, Unavailable
from application.ports.channel import NOT_SENT, ChargeResult, Outcome
from domain.authorization import CAPTURE_DECLINED, DEFAULT_AUTHORIZATION_LIFETIME, HoldMove
from domain.errors import (
    AmountExceeded,
    AuthorizationExpired,
    InvalidAmount,
    InvalidChannel,
    InvalidStatus,
)
from domain.payment import PaymentStatus
from tests.unit.fakes import Gateway
from tests.unit.fakes.channel import CAPTURE_DECLINED as CAPTURE_DECLINED_CARD
from tests.unit.fakes.channel import CAPTURE_TIMES_OUT, DECLINED, TIMES_OUT
from tests.unit.fakes.external import REVIEW_CARD

S = PaymentStatus
HOOKS = "https://merchant.example/hooks"


def events(gateway: Gateway) -> list[tuple[str, str]]:
    return [(e.type, e.data["status"]) for e in gateway.db.notified()]


class TestAuthorize:
    async def test_a_manual_payment_is_authorized_only_and_nothing_reaches_the_ledger(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id, order_no="ORDER-A")

        stored = gateway.db.payment(payment.payment_no)
        assert (stored.status, stored.amount_capturable, stored.amount_captured) == (
            S.REQUIRES_CAPTURE, 10_000, 0)
        assert stored.capture_before == gateway.clock.now() + DEFAULT_AUTHORIZATION_LIFETIME
        assert stored.captured_at is None
        assert gateway.channel.authorizations == {payment.payment_no: 1}
        assert gateway.db.postings == []
        assert gateway.merchant_balance(merchant_id, "USD") == 0
        assert (merchant_id, "ORDER-A") not in gateway.orders.statuses

    async def test_the_hold_lasts_as_long_as_the_channel_says(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        gateway.channel.held_until = gateway.clock.now() + timedelta(hours=3)
        payment = await gateway.authorize(merchant_id)
        assert payment.capture_before == gateway.clock.now() + timedelta(hours=3)

    async def test_the_hold_is_kept_to_the_millisecond_the_api_shows_never_later(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        said = gateway.clock.now() + timedelta(hours=3, microseconds=1_999)
        gateway.channel.held_until = said
        payment = await gateway.authorize(merchant_id)
        assert payment.capture_before == said - timedelta(microseconds=999)

    async def test_a_declined_authorization_fails_the_payment(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id, DECLINED)
        assert (payment.status, payment.failure_code) == (S.FAILED, "card_declined")

    async def test_an_authorization_with_an_unknown_outcome_waits_in_processing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id, TIMES_OUT)
        assert payment.status is S.PROCESSING

        gateway.clock.advance(seconds=61)
        assert await gateway.reconcile() == {"requires_capture": 1}
        assert gateway.db.payment(payment.payment_no).status is S.REQUIRES_CAPTURE
        assert gateway.db.postings == []

    async def test_an_authorization_is_announced_as_requiring_capture(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.authorize(merchant_id, notify_url=HOOKS)
        assert events(gateway) == [("payment.requires_capture", "requires_capture")]

    async def test_an_approved_manual_payment_in_review_is_authorized_not_captured(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id, REVIEW_CARD)

        approved = await gateway.review(payment.payment_no, "approve")

        assert (approved.status, approved.amount_captured) == (S.REQUIRES_CAPTURE, 0)
        assert gateway.channel.authorizations == {payment.payment_no: 1}
        assert gateway.db.postings == []


class TestCapture:
    async def test_a_capture_of_less_captures_that_much_and_posts_exactly_it(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id, order_no="ORDER-C")

        captured = await gateway.capture(payment.payment_no, 6_000, merchant_id)

        assert (captured.status, captured.amount_captured) == (S.SUCCEEDED, 6_000)
        assert gateway.db.payment(payment.payment_no) == captured
        assert [r.amount.amount for r in gateway.channel.capture_requests] == [6_000]
        assert gateway.merchant_balance(merchant_id, "USD") == 6_000
        assert gateway.orders.statuses[(merchant_id, "ORDER-C")] == "succeeded"

    async def test_a_capture_without_an_amount_takes_everything_held(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        captured = await gateway.capture(payment.payment_no)
        assert captured.amount_captured == 10_000
        assert gateway.merchant_balance(merchant_id, "USD") == 10_000

    async def test_a_capture_is_announced_as_succeeded(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id, notify_url=HOOKS)
        await gateway.capture(payment.payment_no)
        assert events(gateway)[-1] == ("payment.succeeded", "succeeded")

    @pytest.mark.parametrize(
        ("amount", "error"), [(10_001, AmountExceeded), (0, InvalidAmount), (-5, InvalidAmount)]
    )
    async def test_a_bad_amount_is_refused_and_nothing_is_sent_or_written(
        self, gateway: Gateway, merchant_id: str, amount: int, error: type[Exception]
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        before = gateway.db.payment(payment.payment_no)

        with pytest.raises(error):
            await gateway.capture(payment.payment_no, amount)

        assert gateway.db.payment(payment.payment_no) == before
        assert gateway.channel.captures == {}

    async def test_an_automatic_payment_cannot_be_captured(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id)
        with pytest.raises(InvalidStatus):
            await gateway.capture(payment.payment_no)
        assert gateway.channel.captures == {}

    async def test_another_merchants_payment_is_not_found(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        other = await gateway.onboard("Globex")
        with pytest.raises(NotFound):
            await gateway.capture(payment.payment_no, merchant_id=other)
        assert gateway.db.payment(payment.payment_no).pending_move is None

    async def test_a_capture_after_capture_before_is_authorization_expired(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.clock.set(payment.capture_before)  # type: ignore[arg-type]
        with pytest.raises(AuthorizationExpired):
            await gateway.capture(payment.payment_no)
        assert gateway.channel.captures == {}

    async def test_a_payment_is_captured_once(self, gateway: Gateway, merchant_id: str) -> None:
        payment = await gateway.authorize(merchant_id)
        await gateway.capture(payment.payment_no, 1_000)
        with pytest.raises(InvalidStatus):
            await gateway.capture(payment.payment_no, 1_000)
        assert gateway.channel.captures == {f"capture-{payment.payment_no}": 1}
        assert gateway.merchant_balance(merchant_id, "USD") == 1_000

    async def test_a_declined_capture_cancels_the_payment_having_taken_nothing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id, CAPTURE_DECLINED_CARD, notify_url=HOOKS)

        ended = await gateway.capture(payment.payment_no)

        assert (ended.status, ended.cancellation_reason) == (S.CANCELED, CAPTURE_DECLINED)
        assert (ended.failure_code, ended.amount_captured) == ("card_declined", 0)
        assert gateway.db.postings == []
        assert events(gateway)[-1] == ("payment.canceled", "canceled")

    async def test_a_capture_with_an_unknown_outcome_waits_for_the_reconciler(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id, CAPTURE_TIMES_OUT)

        answered = await gateway.capture(payment.payment_no, 4_000)

        assert (answered.status, answered.pending_move) == (S.REQUIRES_CAPTURE, HoldMove.CAPTURE)
        assert gateway.db.postings == []
        gateway.clock.advance(seconds=61)
        assert await gateway.reconcile() == {"capture_succeeded": 1}
        assert gateway.db.payment(payment.payment_no).amount_captured == 4_000
        assert gateway.merchant_balance(merchant_id, "USD") == 4_000
        assert gateway.channel.captures == {f"capture-{payment.payment_no}": 1}

    async def test_a_capture_the_channel_never_received_is_unavailable_and_changes_nothing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        before = gateway.db.payment(payment.payment_no)
        gateway.channel.script_moves(ChargeResult(Outcome.FAILED, None, NOT_SENT, "breaker open"))

        with pytest.raises(Unavailable):
            await gateway.capture(payment.payment_no)

        after = gateway.db.payment(payment.payment_no)
        assert (after.status, after.pending_move, after.amount_captured) == (
            S.REQUIRES_CAPTURE, None, 0)
        assert after.amount_capturable == before.amount_capturable
        assert (await gateway.capture(payment.payment_no)).status is S.SUCCEEDED

    async def test_a_channel_that_raises_leaves_the_capture_to_the_reconciler(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.channel.script_moves(ConnectionResetError("reset by peer"))

        answered = await gateway.capture(payment.payment_no)

        assert answered.pending_move is HoldMove.CAPTURE
        gateway.clock.advance(seconds=61)
        await gateway.reconcile()
        assert gateway.db.payment(payment.payment_no).status is S.SUCCEEDED

    async def test_an_outcome_that_cannot_be_written_is_answered_as_committed(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)

        async def database_goes_down(_: object) -> None:
            gateway.db.down = True

        gateway.channel.before_answer = database_goes_down
        answered = await gateway.capture(payment.payment_no)

        assert (answered.status, answered.pending_move) == (S.REQUIRES_CAPTURE, HoldMove.CAPTURE)
        gateway.db.down = False
        gateway.channel.before_answer = None
        gateway.clock.advance(seconds=61)
        await gateway.reconcile()
        assert gateway.db.payment(payment.payment_no).amount_captured == 10_000

    async def test_a_channel_no_longer_configured_refuses_before_anything_is_claimed(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.channel.name = "retired"
        with pytest.raises(InvalidChannel):
            await gateway.capture(payment.payment_no)
        assert gateway.db.payment(payment.payment_no).pending_move is None

    async def test_no_channel_call_happens_inside_a_database_transaction(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        await gateway.capture(payment.payment_no, 10)
        assert gateway.channel.calls_in_transaction == 0

    async def test_captured_money_and_no_more_is_refundable(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        await gateway.capture(payment.payment_no, 6_000)

        with pytest.raises(AmountExceeded):
            await gateway.refund(payment.payment_no, 6_001)
        refunded = await gateway.refund(payment.payment_no)

        assert refunded.refund.amount.amount == 6_000
        assert refunded.payment.status is S.REFUNDED
        assert gateway.merchant_balance(merchant_id, "USD") == 0

    async def test_settlement_counts_captured_money_only(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        part = await gateway.authorize(merchant_id)
        await gateway.capture(part.payment_no, 6_000)
        await gateway.authorize(merchant_id)  # held, never captured
        day = gateway.clock.now().date()
        gateway.clock.advance(days=1)

        [settlement] = await gateway.settle(SettleCommand(merchant_id=merchant_id, day=day))

        assert (settlement.gross, settlement.payment_count) == (6_000, 1)
        assert settlement.fees == (6_000 * 290 + 5_000) // 10_000 + 30

    async def test_an_authorization_cannot_be_refunded(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        with pytest.raises(InvalidStatus):
            await gateway.refund(payment.payment_no, 1)
