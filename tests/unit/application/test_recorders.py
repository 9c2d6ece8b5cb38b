"""The shared recorders: how a charge or refund outcome lands, whoever learns it first."""

import logging

import pytest

from application.charging import apply_charge_result, charge_safely
from application.errors import ConcurrentUpdate, NotFound, Unavailable
from application.ports.channel import ChargeRequest, ChargeResult, Outcome, RefundResult
from domain.money import Money
from domain.payment import PaymentStatus
from domain.refund import RefundStatus
from tests.unit.fakes import FakeClock, Gateway, card
from tests.unit.fakes.channel import TIMES_OUT
from tests.unit.fakes.external import REVIEW_CARD

S = PaymentStatus
SUCCESS = ChargeResult(Outcome.SUCCEEDED, "ch_late")


class TestChargeRecorder:
    async def test_a_lost_race_is_retried_on_the_fresh_row(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, TIMES_OUT)
        gateway.db.racing_writers[payment.payment_no] = 2
        recorded = await gateway.charge_recorder.record(payment, SUCCESS)
        assert recorded.status is S.SUCCEEDED
        assert gateway.db.payment(payment.payment_no).status is S.SUCCEEDED
        assert len(gateway.db.postings) == 1

    async def test_a_stale_copy_never_overwrites_what_another_worker_recorded(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        stale = await gateway.pay(merchant_id, TIMES_OUT)
        await gateway.notify("charge.succeeded", stale.payment_no)
        recorded = await gateway.charge_recorder.record(
            stale, ChargeResult(Outcome.FAILED, None, "card_declined")
        )
        assert recorded.status is S.SUCCEEDED
        assert gateway.db.payment(stale.payment_no).status is S.SUCCEEDED

    async def test_a_row_that_keeps_changing_gives_up_with_concurrent_update(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, TIMES_OUT)
        gateway.db.racing_writers[payment.payment_no] = 5
        with pytest.raises(ConcurrentUpdate, match="kept changing"):
            await gateway.charge_recorder.record(payment, SUCCESS)
        assert gateway.db.payment(payment.payment_no).status is S.PROCESSING
        assert gateway.db.postings == []

    async def test_a_payment_that_vanished_is_not_found(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, TIMES_OUT)
        del gateway.db.payments[payment.payment_no]
        with pytest.raises(NotFound, match="disappeared"):
            await gateway.charge_recorder.record(payment, SUCCESS)

    async def test_an_order_that_cannot_follow_is_logged_and_the_payment_stands(
        self, gateway: Gateway, merchant_id: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        gateway.orders.update_failure = Unavailable("order service down")
        with caplog.at_level(logging.ERROR, logger="application.charging"):
            payment = await gateway.pay(merchant_id, order_no="ORDER-X")
        assert gateway.db.payment(payment.payment_no).status is S.SUCCEEDED
        assert gateway.orders.statuses == {}
        assert "ORDER-X could not follow payment" in caplog.text

    async def test_a_result_for_an_unapproved_review_changes_nothing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, REVIEW_CARD)
        assert not apply_charge_result(payment, SUCCESS, gateway.clock)
        assert payment.status is S.REQUIRES_REVIEW

    async def test_an_unknown_result_moves_pending_to_processing_only(self) -> None:
        gateway = Gateway()
        merchant_id = await gateway.onboard()
        payment_no = await gateway.store_pending_payment(merchant_id)
        payment = gateway.db.payment(payment_no)
        assert apply_charge_result(payment, ChargeResult(Outcome.UNKNOWN), FakeClock())
        assert payment.status is S.PROCESSING
        assert not apply_charge_result(payment, ChargeResult(Outcome.UNKNOWN), FakeClock())

    async def test_a_channel_surprise_is_an_unknown_outcome_and_is_logged(
        self, gateway: Gateway, caplog: pytest.LogCaptureFixture
    ) -> None:
        gateway.channel.script_charges(OSError("connection reset"))
        request = ChargeRequest("pay_1", "mch_1", Money(100, "USD"), card=card())
        with caplog.at_level(logging.ERROR, logger="application.charging"):
            result = await charge_safely(gateway.channel, request)
        assert result == ChargeResult(Outcome.UNKNOWN)
        assert "charge of pay_1 raised" in caplog.text


class TestRefundRecorder:
    async def test_an_unknown_refund_is_not_found(self, gateway: Gateway) -> None:
        with pytest.raises(NotFound, match="ref_missing"):
            await gateway.refund_recorder.record("ref_missing", RefundResult(Outcome.SUCCEEDED))

    async def test_a_refund_whose_payment_vanished_is_not_found_and_stays_pending(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id)
        gateway.channel.script_refunds(RefundResult(Outcome.UNKNOWN))
        refund_no = (await gateway.refund(payment.payment_no, 100, merchant_id)).refund.refund_no
        del gateway.db.payments[payment.payment_no]
        with pytest.raises(NotFound, match=payment.payment_no):
            await gateway.refund_recorder.record(refund_no, RefundResult(Outcome.SUCCEEDED))
        assert gateway.db.refund(refund_no).status is RefundStatus.PENDING
