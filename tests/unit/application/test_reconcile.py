from datetime import timedelta

import pytest

from application.ports.channel import ChargeResult, Outcome, RefundResult
from application.use_cases.reconcile import ReconcilePayments
from domain.payment import PaymentStatus
from domain.refund import RefundStatus
from tests.unit.fakes import Gateway
from tests.unit.fakes.channel import TIMES_OUT, declined

S = PaymentStatus
PAST_GRACE = 61


async def in_flight(gateway: Gateway, merchant_id: str) -> str:
    return (await gateway.pay(merchant_id, TIMES_OUT)).payment_no


async def refund_in_flight(gateway: Gateway, merchant_id: str) -> str:
    payment = await gateway.pay(merchant_id)
    gateway.channel.script_refunds(RefundResult(Outcome.UNKNOWN))
    return (await gateway.refund(payment.payment_no, 3_000, merchant_id)).refund.refund_no


class TestReconcilePayments:
    async def test_a_processing_payment_past_the_grace_period_takes_the_channels_answer(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {"succeeded": 1}
        assert gateway.db.payment(payment_no).status is S.SUCCEEDED
        assert gateway.db.payment(payment_no).channel_reference == f"ch_{payment_no}"

    async def test_a_payment_within_the_grace_period_is_left_alone(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        gateway.clock.advance(seconds=59)
        assert await gateway.reconcile() == {}
        assert gateway.db.payment(payment_no).status is S.PROCESSING

    async def test_a_charge_the_channel_reports_failed_fails_the_payment(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        gateway.channel.settle_charge(payment_no, declined("card_declined"))
        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {"failed": 1}
        assert gateway.db.payment(payment_no).failure_code == "card_declined"

    async def test_a_charge_still_unknown_stays_processing_for_the_next_run(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        gateway.channel.settle_charge(payment_no, ChargeResult(Outcome.UNKNOWN))
        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {"processing": 1}
        assert gateway.db.payment(payment_no).status is S.PROCESSING

    async def test_a_pending_payment_never_charged_is_failed(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await gateway.store_pending_payment(merchant_id)
        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {"failed": 1}
        assert gateway.db.payment(payment_no).failure_code == "charge_not_found"

    async def test_a_pending_payment_the_channel_has_no_record_of_fails_as_not_charged(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await gateway.store_pending_payment(merchant_id)
        gateway.channel.settle_charge(
            payment_no, ChargeResult(Outcome.UNKNOWN, None, "not_found", "no such charge")
        )
        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {"failed": 1}
        assert gateway.db.payment(payment_no).failure_code == "not_charged"
        assert gateway.debits_and_credits() == {}

    async def test_a_processing_payment_the_channel_cannot_find_yet_keeps_waiting(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        gateway.channel.settle_charge(
            payment_no, ChargeResult(Outcome.UNKNOWN, None, "not_found", "no such charge")
        )
        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {"processing": 1}
        assert gateway.db.payment(payment_no).status is S.PROCESSING

    async def test_a_payment_on_a_channel_no_longer_configured_is_skipped(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        refund_no = await refund_in_flight(gateway, merchant_id)
        gateway.clock.advance(seconds=PAST_GRACE)
        reconcile = ReconcilePayments(
            gateway.uow,
            {},
            gateway.clock,
            gateway.charge_recorder,
            gateway.refund_recorder,
            gateway.move_recorder,
        )
        assert await reconcile() == {"skipped": 2}
        assert gateway.db.payment(payment_no).status is S.PROCESSING
        assert gateway.db.refund(refund_no).status is RefundStatus.PENDING

    async def test_the_oldest_payments_go_first_and_a_run_takes_one_batch(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        oldest = await in_flight(gateway, merchant_id)
        gateway.clock.advance(seconds=1)
        newer = await in_flight(gateway, merchant_id)
        gateway.clock.advance(seconds=PAST_GRACE)
        reconcile = ReconcilePayments(
            gateway.uow,
            gateway.channels,
            gateway.clock,
            gateway.charge_recorder,
            gateway.refund_recorder,
            gateway.move_recorder,
            batch=1,
        )
        assert await reconcile() == {"succeeded": 1}
        assert gateway.db.payment(oldest).status is S.SUCCEEDED
        assert gateway.db.payment(newer).status is S.PROCESSING

    @pytest.mark.parametrize(
        ("answer", "status", "count"),
        [
            (RefundResult(Outcome.SUCCEEDED, "re_x"), RefundStatus.SUCCEEDED, "refund_succeeded"),
            (
                RefundResult(Outcome.FAILED, None, "refund_declined"),
                RefundStatus.FAILED,
                "refund_failed",
            ),
            (RefundResult(Outcome.UNKNOWN), RefundStatus.PENDING, "refund_pending"),
        ],
    )
    async def test_a_pending_refund_takes_the_channels_answer(
        self,
        gateway: Gateway,
        merchant_id: str,
        answer: RefundResult,
        status: RefundStatus,
        count: str,
    ) -> None:
        refund_no = await refund_in_flight(gateway, merchant_id)
        gateway.channel.settle_refund(refund_no, answer)
        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {count: 1}
        assert gateway.db.refund(refund_no).status is status

    async def test_a_channel_that_cannot_answer_is_counted_and_left_for_the_next_run(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        gateway.channel.query_failure = ConnectionError("channel down")
        gateway.clock.advance(seconds=PAST_GRACE)
        assert await gateway.reconcile() == {"errors": 1}
        assert gateway.db.payment(payment_no).status is S.PROCESSING


class TestReconcileSooner:
    """`paygate reconcile --older-than`: a `processing` payment (its request already
    answered) may be asked sooner; a `pending` payment or refund never within the grace,
    since the request that made it may still be charging or refunding it."""

    async def test_a_processing_payment_older_than_asked_is_reconciled_within_the_grace(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        gateway.clock.advance(seconds=6)

        assert await gateway.reconcile(older_than=timedelta(seconds=5)) == {"succeeded": 1}
        assert gateway.db.payment(payment_no).status is S.SUCCEEDED

    async def test_a_processing_payment_changed_exactly_at_the_cutoff_waits(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        gateway.clock.advance(seconds=5)

        assert await gateway.reconcile(older_than=timedelta(seconds=5)) == {}
        assert gateway.db.payment(payment_no).status is S.PROCESSING
        waiting = await gateway.reconcile.waiting(older_than=timedelta(seconds=5))
        assert waiting["processing_changed_recently"] == 1

    async def test_a_pending_payment_within_the_grace_is_left_whatever_older_than_says(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await gateway.store_pending_payment(merchant_id)
        gateway.clock.advance(seconds=59)

        assert await gateway.reconcile(older_than=timedelta(0)) == {}
        assert gateway.db.payment(payment_no).status is S.PENDING
        assert await gateway.reconcile.waiting(older_than=timedelta(0)) == {
            "processing_changed_recently": 0, "pending_within_grace": 1, "still_unresolved": 0}

    async def test_a_pending_refund_within_the_grace_is_left_whatever_older_than_says(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        refund_no = await refund_in_flight(gateway, merchant_id)
        gateway.channel.settle_refund(refund_no, RefundResult(Outcome.SUCCEEDED, "re_x"))
        gateway.clock.advance(seconds=59)

        assert await gateway.reconcile(older_than=timedelta(0)) == {}
        assert gateway.db.refund(refund_no).status is RefundStatus.PENDING
        waiting = await gateway.reconcile.waiting(older_than=timedelta(0))
        assert waiting["pending_within_grace"] == 1

    async def test_older_than_longer_than_the_grace_holds_back_pending_ones_too(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await gateway.store_pending_payment(merchant_id)
        gateway.clock.advance(seconds=90)

        assert await gateway.reconcile(older_than=timedelta(seconds=120)) == {}
        assert gateway.db.payment(payment_no).status is S.PENDING

    async def test_what_is_left_waiting_is_counted_by_why(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        stuck = await in_flight(gateway, merchant_id)
        gateway.channel.settle_charge(stuck, ChargeResult(Outcome.UNKNOWN))
        gateway.clock.advance(seconds=PAST_GRACE)
        await in_flight(gateway, merchant_id)
        await gateway.store_pending_payment(merchant_id)

        done = await gateway.reconcile()
        waiting = await gateway.reconcile.waiting()

        assert done == {"processing": 1}
        assert waiting == {"processing_changed_recently": 1, "pending_within_grace": 1,
                           "still_unresolved": 1}
