import copy

import pytest

from application.errors import NotFound, ValidationFailed
from application.ports.channel import Outcome, RefundResult
from domain.payment import PaymentStatus
from domain.refund import RefundStatus
from tests.unit.fakes import FakeChannel, Gateway
from tests.unit.fakes.channel import TIMES_OUT
from tests.unit.fakes.external import REVIEW_CARD

S = PaymentStatus
HOOK = "https://m.example/h"


async def in_flight(gateway: Gateway, merchant_id: str, **overrides: object) -> str:
    payment = await gateway.pay(merchant_id, TIMES_OUT, **overrides)
    assert payment.status is S.PROCESSING
    return payment.payment_no


async def refund_in_flight(gateway: Gateway, merchant_id: str, amount: int = 4_000) -> str:
    payment = await gateway.pay(merchant_id, notify_url=HOOK)
    gateway.channel.script_refunds(RefundResult(Outcome.UNKNOWN))
    outcome = await gateway.refund(payment.payment_no, amount, merchant_id)
    assert outcome.refund.status is RefundStatus.PENDING
    return outcome.refund.refund_no


def snapshot(gateway: Gateway) -> object:
    db = gateway.db
    return copy.deepcopy((db.payments, db.refunds, db.postings, db.outbox))


class TestHandleChannelNotification:
    async def test_charge_succeeded_captures_a_processing_payment(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id, order_no="ORDER-N", notify_url=HOOK)
        await gateway.notify("charge.succeeded", payment_no)
        assert gateway.db.payment(payment_no).status is S.SUCCEEDED
        assert gateway.merchant_balance(merchant_id, "USD") == 10_000
        assert gateway.orders.statuses[(merchant_id, "ORDER-N")] == "succeeded"
        assert gateway.db.notified_types() == ["payment.succeeded"]

    async def test_charge_failed_fails_a_processing_payment_with_the_code(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        await gateway.notify("charge.failed", payment_no, failure_code="expired_card")
        stored = gateway.db.payment(payment_no)
        assert (stored.status, stored.failure_code) == (S.FAILED, "expired_card")
        assert gateway.db.postings == []

    async def test_a_notification_resolves_a_payment_left_pending_by_a_crash(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await gateway.store_pending_payment(merchant_id)
        await gateway.notify("charge.succeeded", payment_no)
        assert gateway.db.payment(payment_no).status is S.SUCCEEDED

    @pytest.mark.parametrize("kind", ["charge.succeeded", "charge.failed"])
    async def test_a_repeated_notification_changes_nothing(
        self, gateway: Gateway, merchant_id: str, kind: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id, notify_url=HOOK)
        await gateway.notify(kind, payment_no)
        before = snapshot(gateway)
        gateway.clock.advance(minutes=1)
        await gateway.notify(kind, payment_no)
        assert snapshot(gateway) == before

    async def test_a_late_charge_failed_never_overwrites_succeeded(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        await gateway.notify("charge.succeeded", payment_no)
        before = snapshot(gateway)
        await gateway.notify("charge.failed", payment_no, failure_code="card_declined")
        assert snapshot(gateway) == before
        assert gateway.db.payment(payment_no).status is S.SUCCEEDED

    async def test_a_late_charge_succeeded_never_captures_a_failed_payment(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        await gateway.notify("charge.failed", payment_no)
        await gateway.notify("charge.succeeded", payment_no)
        assert gateway.db.payment(payment_no).status is S.FAILED
        assert gateway.db.postings == []

    async def test_a_charge_notification_for_a_payment_under_review_changes_nothing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, REVIEW_CARD)
        before = snapshot(gateway)
        await gateway.notify("charge.succeeded", payment.payment_no)
        assert snapshot(gateway) == before

    async def test_a_charge_notification_on_a_refunded_payment_changes_nothing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id)
        await gateway.refund(payment.payment_no, None, merchant_id)
        before = snapshot(gateway)
        await gateway.notify("charge.succeeded", payment.payment_no)
        assert snapshot(gateway) == before

    async def test_refund_succeeded_completes_a_pending_refund(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        refund_no = await refund_in_flight(gateway, merchant_id)
        payment_no = gateway.db.refund(refund_no).payment_no
        await gateway.notify("refund.succeeded", payment_no, refund_no)

        assert gateway.db.refund(refund_no).status is RefundStatus.SUCCEEDED
        payment = gateway.db.payment(payment_no)
        assert (payment.status, payment.refunded_amount) == (S.PARTIALLY_REFUNDED, 4_000)
        assert gateway.merchant_balance(merchant_id, "USD") == 6_000
        assert gateway.db.notified_types()[-2:] == [
            "refund.succeeded",
            "payment.partially_refunded",
        ]

    async def test_refund_failed_fails_the_refund_and_frees_its_amount(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        refund_no = await refund_in_flight(gateway, merchant_id)
        payment_no = gateway.db.refund(refund_no).payment_no
        await gateway.notify("refund.failed", payment_no, refund_no, "refund_declined")

        refund = gateway.db.refund(refund_no)
        assert (refund.status, refund.failure_code) == (RefundStatus.FAILED, "refund_declined")
        payment = gateway.db.payment(payment_no)
        assert (payment.status, payment.refund_reserved) == (S.SUCCEEDED, 0)
        assert gateway.merchant_balance(merchant_id, "USD") == 10_000

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("refund.succeeded", "refund.succeeded"),
            ("refund.succeeded", "refund.failed"),
            ("refund.failed", "refund.succeeded"),
        ],
    )
    async def test_a_finished_refund_ignores_later_notifications(
        self, gateway: Gateway, merchant_id: str, first: str, second: str
    ) -> None:
        refund_no = await refund_in_flight(gateway, merchant_id)
        payment_no = gateway.db.refund(refund_no).payment_no
        await gateway.notify(first, payment_no, refund_no)
        before = snapshot(gateway)
        await gateway.notify(second, payment_no, refund_no)
        assert snapshot(gateway) == before

    async def test_a_refund_notification_needs_a_refund_no(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id)
        with pytest.raises(ValidationFailed, match="refund_no"):
            await gateway.notify("refund.succeeded", payment.payment_no)

    @pytest.mark.parametrize(
        "kind", ["charge.pending", "dispute.created", "charge", "refund.unknown", ""]
    )
    async def test_an_event_paygate_does_not_act_on_is_acknowledged_and_changes_nothing(
        self, gateway: Gateway, merchant_id: str, kind: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        assert await gateway.notify(kind, payment_no) is False
        assert gateway.db.payment(payment_no).status is S.PROCESSING

    async def test_a_notification_about_an_unknown_payment_is_not_found(
        self, gateway: Gateway
    ) -> None:
        with pytest.raises(NotFound) as error:
            await gateway.notify("charge.succeeded", "pay_missing")
        assert error.value.code == "not_found"

    async def test_a_notification_about_an_unknown_refund_is_not_found(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id)
        with pytest.raises(NotFound):
            await gateway.notify("refund.succeeded", payment.payment_no, "ref_missing")

    async def test_a_channel_cannot_settle_another_channels_charge(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await in_flight(gateway, merchant_id)
        with pytest.raises(NotFound):
            await gateway.notify("charge.failed", payment_no, channel="stripe")
        assert gateway.db.payment(payment_no).status is S.PROCESSING

    async def test_a_channel_cannot_settle_another_channels_refund(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        refund_no = await refund_in_flight(gateway, merchant_id)
        payment_no = gateway.db.refund(refund_no).payment_no
        gateway.channel = FakeChannel("stripe", db=gateway.db)  # now configured, too
        with pytest.raises(NotFound):
            await gateway.notify("refund.failed", payment_no, refund_no, channel="stripe")
        assert gateway.db.refund(refund_no).status is RefundStatus.PENDING
        assert gateway.db.payment(payment_no).refund_reserved == 4_000
