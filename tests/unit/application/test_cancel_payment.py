"""Cancelling, expiring, and reconciling the captures and voids whose answer was lost."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.commands import CancelPaymentCommand
from application.errors import NotFound, Unavailable
from application.ports.channel import NOT_SENT, ChargeResult, Outcome
from domain.authorization import EXPIRED, REQUESTED, HoldMove
from domain.errors import AuthorizationExpired, InvalidStatus
from domain.payment import Payment, PaymentStatus
from tests.unit.fakes import Gateway
from tests.unit.fakes.external import REVIEW_CARD

S = PaymentStatus
HOOKS = "https://merchant.example/hooks"
PAST_GRACE = 61


def announced(gateway: Gateway) -> list[str]:
    return gateway.db.notified_types()


async def expire_due(gateway: Gateway, payment: Payment) -> dict[str, int]:
    gateway.clock.set(payment.capture_before)  # type: ignore[arg-type]
    return await gateway.expire_authorizations()


class TestCancel:
    async def test_cancelling_an_authorization_voids_it_and_captures_nothing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id, order_no="ORDER-V", notify_url=HOOKS)

        canceled = await gateway.cancel(payment.payment_no, "out of stock", merchant_id)

        assert (canceled.status, canceled.cancellation_reason) == (S.CANCELED, "out of stock")
        assert gateway.db.payment(payment.payment_no) == canceled
        assert gateway.channel.voids == {f"void-{payment.payment_no}": 1}
        assert gateway.db.postings == []
        assert announced(gateway)[-1] == "payment.canceled"
        assert gateway.orders.statuses[(merchant_id, "ORDER-V")] == "canceled"

    async def test_an_unknown_payment_is_not_found(self, gateway: Gateway) -> None:
        with pytest.raises(NotFound):
            await gateway.cancel("pay_nope")

    async def test_a_cancel_without_a_reason_is_requested(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        assert (await gateway.cancel(payment.payment_no)).cancellation_reason == REQUESTED

    async def test_a_payment_in_review_is_cancelled_without_asking_the_channel(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, REVIEW_CARD, order_no="ORDER-R", notify_url=HOOKS)

        canceled = await gateway.cancel(payment.payment_no, "customer called")

        assert (canceled.status, canceled.payment_token) == (S.CANCELED, None)
        assert gateway.db.payment(payment.payment_no) == canceled
        assert gateway.channel.voids == {}
        assert announced(gateway) == ["payment.canceled"]
        assert gateway.orders.statuses[(merchant_id, "ORDER-R")] == "canceled"

    @pytest.mark.parametrize("automatic", [True, False])
    async def test_a_payment_that_captured_money_is_never_cancelled(
        self, gateway: Gateway, merchant_id: str, automatic: bool
    ) -> None:
        if automatic:
            payment = await gateway.pay(merchant_id)
        else:
            payment = await gateway.capture((await gateway.authorize(merchant_id)).payment_no)
        before = gateway.db.payment(payment.payment_no)

        with pytest.raises(InvalidStatus):
            await gateway.cancel(payment.payment_no)

        assert gateway.db.payment(payment.payment_no) == before
        assert gateway.channel.voids == {}

    async def test_a_capture_and_a_cancel_one_after_the_other_the_second_is_refused(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.channel.script_moves(ChargeResult(Outcome.UNKNOWN))
        await gateway.capture(payment.payment_no)  # its answer lost: the claim stays

        with pytest.raises(InvalidStatus, match="capture in progress"):
            await gateway.cancel(payment.payment_no)
        assert gateway.channel.voids == {}

    async def test_a_void_the_channel_never_received_is_unavailable_and_keeps_the_hold(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.channel.script_moves(ChargeResult(Outcome.FAILED, None, NOT_SENT))

        with pytest.raises(Unavailable):
            await gateway.cancel(payment.payment_no, "out of stock")

        after = gateway.db.payment(payment.payment_no)
        assert (after.status, after.pending_move, after.cancellation_reason) == (
            S.REQUIRES_CAPTURE, None, None)

    async def test_a_void_the_channel_refuses_leaves_the_hold_standing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.channel.script_moves(ChargeResult(Outcome.FAILED, None, "already_captured"))

        answered = await gateway.cancel(payment.payment_no)

        assert (answered.status, answered.pending_move) == (S.REQUIRES_CAPTURE, None)

    async def test_a_void_the_channel_refuses_announces_nothing_the_payment_did_not_do(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id, notify_url=HOOKS)
        before = gateway.db.event_types(merchant_id)
        gateway.channel.script_moves(ChargeResult(Outcome.FAILED, None, "already_captured"))

        await gateway.cancel(payment.payment_no)

        assert gateway.db.event_types(merchant_id) == before
        assert announced(gateway).count("payment.requires_capture") == 1


class TestExpiry:
    async def test_a_hold_that_lapsed_uncaptured_is_voided_as_expired_and_announced(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id, notify_url=HOOKS)

        assert await expire_due(gateway, payment) == {"authorizations_expired": 1}

        expired = gateway.db.payment(payment.payment_no)
        assert (expired.status, expired.cancellation_reason) == (S.CANCELED, EXPIRED)
        assert gateway.channel.voids == {f"void-{payment.payment_no}": 1}
        [event] = [e for e in gateway.db.notified() if e.type == "payment.canceled"]
        assert event.data["cancellation_reason"] == "expired"
        with pytest.raises(AuthorizationExpired):
            await gateway.capture(payment.payment_no)

    async def test_a_hold_is_left_alone_until_capture_before(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.clock.set(payment.capture_before - timedelta(microseconds=1))  # type: ignore[operator]

        assert await gateway.expire_authorizations() == {}
        assert gateway.db.payment(payment.payment_no).status is S.REQUIRES_CAPTURE

    async def test_captured_and_cancelled_payments_never_expire(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        captured = await gateway.authorize(merchant_id)
        await gateway.capture(captured.payment_no, 10)
        canceled = await gateway.authorize(merchant_id)
        await gateway.cancel(canceled.payment_no)

        gateway.clock.advance(days=30)
        assert await gateway.expire_authorizations() == {}
        assert gateway.channel.voids == {f"void-{canceled.payment_no}": 1}

    async def test_a_hold_whose_capture_is_on_its_way_is_left_to_the_reconciler(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.channel.script_moves(ChargeResult(Outcome.UNKNOWN))
        await gateway.capture(payment.payment_no)

        assert await expire_due(gateway, payment) == {}
        assert gateway.channel.voids == {}

    async def test_one_failing_expiry_does_not_hold_up_the_others(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        first = await gateway.authorize(merchant_id)
        second = await gateway.authorize(merchant_id)
        gateway.channel.script_moves(ChargeResult(Outcome.FAILED, None, NOT_SENT))

        assert await expire_due(gateway, second) == {
            "errors": 1, "authorizations_expired": 1}
        statuses = {gateway.db.payment(p.payment_no).status for p in (first, second)}
        assert statuses == {S.REQUIRES_CAPTURE, S.CANCELED}

    async def test_an_expiry_whose_void_is_unanswered_is_finished_by_the_reconciler(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.channel.script_moves(ChargeResult(Outcome.UNKNOWN))

        assert await expire_due(gateway, payment) == {"authorizations_expiring": 1}
        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {"void_canceled": 1}
        assert gateway.db.payment(payment.payment_no).cancellation_reason == EXPIRED

    async def test_a_void_the_channel_refuses_once_the_hold_lapsed_still_ends_it(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.channel.script_moves(ChargeResult(Outcome.FAILED, None, "already_canceled"))

        assert await expire_due(gateway, payment) == {"authorizations_expired": 1}
        expired = gateway.db.payment(payment.payment_no)
        assert (expired.status, expired.cancellation_reason) == (S.CANCELED, EXPIRED)

    async def test_a_payment_captured_since_it_was_listed_is_skipped(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.clock.set(payment.capture_before)  # type: ignore[arg-type]

        async def captured_meanwhile(command: CancelPaymentCommand) -> Payment:
            raise InvalidStatus("captured meanwhile")

        expire = type(gateway.expire_authorizations)(gateway.uow, gateway.clock, captured_meanwhile)
        assert await expire() == {"authorizations_skipped": 1}


class TestReconcileMoves:
    async def test_a_void_whose_answer_was_lost_is_asked_about_never_sent_again(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.channel.script_moves(TimeoutError("no answer"))
        await gateway.cancel(payment.payment_no)

        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {"void_canceled": 1}
        assert gateway.channel.voids == {f"void-{payment.payment_no}": 1}

    async def test_a_capture_that_never_arrived_releases_the_claim(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        async with gateway.uow() as uow:  # claimed, then the process died before sending
            claimed = await uow.payments.get(payment.payment_no)
            assert claimed is not None
            claimed.begin_capture(None, gateway.clock.now())
            await uow.payments.update(claimed)
            await uow.commit()

        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {"capture_requires_capture": 1}
        after = gateway.db.payment(payment.payment_no)
        assert (after.pending_move, after.amount_captured) == (None, 0)
        assert gateway.channel.captures == {}

    async def test_a_move_the_channel_still_cannot_answer_for_stays_claimed(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.channel.script_moves(ChargeResult(Outcome.UNKNOWN))
        await gateway.capture(payment.payment_no)
        gateway.channel.capture_truth[payment.payment_no] = ChargeResult(Outcome.UNKNOWN)

        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {"capture_requires_capture": 1}
        assert gateway.db.payment(payment.payment_no).pending_move is HoldMove.CAPTURE

    async def test_a_move_on_a_channel_no_longer_configured_is_skipped(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.channel.script_moves(ChargeResult(Outcome.UNKNOWN))
        await gateway.capture(payment.payment_no)
        gateway.channel.name = "retired"

        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {"skipped": 1}
        assert gateway.db.payment(payment.payment_no).pending_move is HoldMove.CAPTURE

    async def test_a_query_that_fails_is_counted_and_the_others_go_on(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.channel.script_moves(ChargeResult(Outcome.UNKNOWN))
        await gateway.capture(payment.payment_no)
        gateway.channel.query_failure = ConnectionResetError("reset by peer")

        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {"errors": 1}
        assert gateway.db.payment(payment.payment_no).pending_move is HoldMove.CAPTURE

    async def test_an_answer_about_an_unknown_payment_is_not_found(
        self, gateway: Gateway
    ) -> None:
        with pytest.raises(NotFound):
            await gateway.move_recorder.record(
                "pay_nope", HoldMove.VOID, ChargeResult(Outcome.SUCCEEDED))

    async def test_a_late_repeated_answer_changes_nothing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        captured = await gateway.capture(payment.payment_no, 3_000)

        again = await gateway.move_recorder.record(
            payment.payment_no, HoldMove.CAPTURE, ChargeResult(Outcome.SUCCEEDED, "cap_again"))

        assert again == captured
        assert gateway.merchant_balance(merchant_id, "USD") == 3_000
        assert len(gateway.db.postings) == 1

    async def test_an_answer_about_the_other_move_changes_nothing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.authorize(merchant_id)
        gateway.channel.script_moves(ChargeResult(Outcome.UNKNOWN))
        claimed = await gateway.cancel(payment.payment_no)

        answered = await gateway.move_recorder.record(
            payment.payment_no, HoldMove.CAPTURE, ChargeResult(Outcome.SUCCEEDED, "cap_x"))

        assert answered == claimed
        assert gateway.db.postings == []
