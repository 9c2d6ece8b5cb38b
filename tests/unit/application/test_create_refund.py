from decimal import Decimal

import pytest

from application.commands import CreateRefundCommand
from application.errors import NotFound
from application.ports.channel import Outcome, RefundResult
from application.use_cases.create_refund import CreateRefund
from domain.errors import AmountExceeded, InvalidAmount, InvalidStatus
from domain.money import Money
from domain.payment import PaymentStatus
from domain.refund import RefundStatus
from tests.unit.fakes import Gateway
from tests.unit.fakes.channel import DECLINED, TIMES_OUT
from tests.unit.fakes.external import REJECT_CARD, REVIEW_CARD

S = PaymentStatus


async def captured(gateway: Gateway, merchant_id: str, amount: int = 10_000, **kw: object) -> str:
    payment = await gateway.pay(merchant_id, amount=amount, **kw)
    assert payment.status is S.SUCCEEDED
    return payment.payment_no


def refund_failed(code: str = "refund_declined") -> RefundResult:
    return RefundResult(Outcome.FAILED, failure_code=code)


class TestCreateRefund:
    async def test_full_refund_refunds_everything_and_the_payment_is_refunded(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        gateway.clock.advance(hours=1)

        outcome = await gateway.refund(payment_no, merchant_id=merchant_id)

        refund = gateway.db.refund(outcome.refund.refund_no)
        payment = gateway.db.payment(payment_no)
        assert outcome.refund == refund
        assert outcome.payment == payment
        assert (refund.status, refund.amount) == (RefundStatus.SUCCEEDED, Money(10_000, "USD"))
        assert refund.completed_at == gateway.clock.now()
        assert refund.channel_reference == f"re_{refund.refund_no}"
        assert (payment.status, payment.refunded_amount) == (S.REFUNDED, 10_000)
        assert gateway.merchant_balance(merchant_id, "USD") == 0
        [request] = gateway.channel.refund_requests
        assert request.charge_reference == f"ch_{payment_no}"
        assert gateway.channel.refunds == {refund.refund_no: 1}

    async def test_partial_refund_leaves_the_rest_refundable(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        outcome = await gateway.refund(payment_no, 2_500, merchant_id)
        payment = gateway.db.payment(payment_no)
        assert outcome.refund.status is RefundStatus.SUCCEEDED
        assert (payment.status, payment.refunded_amount, payment.refundable) == (
            S.PARTIALLY_REFUNDED,
            2_500,
            7_500,
        )
        assert gateway.merchant_balance(merchant_id, "USD") == 7_500

    async def test_several_partial_refunds_add_up_to_the_amount(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        statuses = []
        for amount in (2_500, 2_500, 5_000):
            await gateway.refund(payment_no, amount, merchant_id)
            statuses.append(gateway.db.payment(payment_no).status)
        assert statuses == [S.PARTIALLY_REFUNDED, S.PARTIALLY_REFUNDED, S.REFUNDED]
        assert gateway.db.payment(payment_no).refunded_amount == 10_000
        with pytest.raises(InvalidStatus):
            await gateway.refund(payment_no, 1, merchant_id)
        assert len(gateway.db.refunds) == 3

    async def test_refund_larger_than_what_is_left_says_how_much_is_left(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        await gateway.refund(payment_no, 6_000, merchant_id)
        with pytest.raises(AmountExceeded) as error:
            await gateway.refund(payment_no, 4_001, merchant_id)
        assert error.value.code == "amount_exceeded"
        assert error.value.details["remaining"] == 4_000
        assert "left to refund (40.00 USD)" in error.value.message
        assert gateway.db.payment(payment_no).refund_reserved == 6_000
        assert len(gateway.db.refunds) == 1
        assert len(gateway.channel.refund_requests) == 1

    @pytest.mark.parametrize("amount", [0, -100, 25.0, Decimal(25), True])
    async def test_amount_must_be_a_positive_integer(
        self, gateway: Gateway, merchant_id: str, amount: object
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        with pytest.raises(InvalidAmount) as error:
            await gateway.refund(payment_no, amount, merchant_id)
        assert error.value.code == "invalid_amount"
        assert gateway.db.payment(payment_no).refund_reserved == 0
        assert gateway.db.refunds == {}

    @pytest.mark.parametrize("number", [DECLINED, REJECT_CARD, REVIEW_CARD, TIMES_OUT], ids=str)
    async def test_a_payment_that_was_never_captured_cannot_be_refunded(
        self, gateway: Gateway, merchant_id: str, number: str
    ) -> None:
        payment = await gateway.pay(merchant_id, number)
        with pytest.raises(InvalidStatus) as error:
            await gateway.refund(payment.payment_no, None, merchant_id)
        assert error.value.code == "invalid_status"
        assert gateway.db.refunds == {}
        assert gateway.channel.refund_requests == []

    async def test_a_pending_payment_cannot_be_refunded(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await gateway.store_pending_payment(merchant_id)
        with pytest.raises(InvalidStatus, match="pending"):
            await gateway.refund(payment_no, 100, merchant_id)

    async def test_a_refunded_payment_cannot_be_refunded_again(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        await gateway.refund(payment_no, None, merchant_id)
        with pytest.raises(InvalidStatus, match="refunded"):
            await gateway.refund(payment_no, None, merchant_id)

    async def test_a_refund_the_channel_declines_fails_and_frees_the_amount(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        gateway.channel.script_refunds(refund_failed())

        outcome = await gateway.refund(payment_no, 4_000, merchant_id)

        refund = gateway.db.refund(outcome.refund.refund_no)
        assert (refund.status, refund.failure_code) == (RefundStatus.FAILED, "refund_declined")
        payment = gateway.db.payment(payment_no)
        assert (payment.status, payment.refund_reserved, payment.refunded_amount) == (
            S.SUCCEEDED,
            0,
            0,
        )
        assert gateway.merchant_balance(merchant_id, "USD") == 10_000

        again = await gateway.refund(payment_no, None, merchant_id)
        assert again.refund.amount == Money(10_000, "USD")
        assert gateway.db.payment(payment_no).status is S.REFUNDED

    async def test_a_failure_without_a_code_is_a_processing_error(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        gateway.channel.script_refunds(RefundResult(Outcome.FAILED))
        outcome = await gateway.refund(payment_no, None, merchant_id)
        assert gateway.db.refund(outcome.refund.refund_no).failure_code == "processing_error"

    @pytest.mark.parametrize(
        "reply",
        [RefundResult(Outcome.UNKNOWN), TimeoutError("no answer")],
        ids=["unknown", "raises"],
    )
    async def test_an_unknown_outcome_leaves_the_refund_pending_and_its_amount_reserved(
        self, gateway: Gateway, merchant_id: str, reply: object
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        gateway.channel.script_refunds(reply)  # type: ignore[arg-type]

        outcome = await gateway.refund(payment_no, 7_000, merchant_id)

        assert gateway.db.refund(outcome.refund.refund_no).status is RefundStatus.PENDING
        payment = gateway.db.payment(payment_no)
        assert (payment.status, payment.refund_reserved, payment.refundable) == (
            S.SUCCEEDED,
            7_000,
            3_000,
        )
        assert gateway.merchant_balance(merchant_id, "USD") == 10_000
        with pytest.raises(AmountExceeded):
            await gateway.refund(payment_no, 3_001, merchant_id)

    async def test_another_merchants_payment_is_not_found(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        intruder = await gateway.onboard("Intruder")
        with pytest.raises(NotFound) as error:
            await gateway.refund(payment_no, 100, intruder)
        assert error.value.code == "not_found"
        assert gateway.db.payment(payment_no).refund_reserved == 0
        assert gateway.db.refunds == {}

    async def test_an_unknown_payment_is_not_found(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        with pytest.raises(NotFound):
            await gateway.refund("pay_missing", 100, merchant_id)

    async def test_an_operator_may_refund_any_merchants_payment(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        outcome = await gateway.refund(payment_no, 100, merchant_id=None)
        assert outcome.refund.merchant_id == merchant_id
        assert outcome.refund.status is RefundStatus.SUCCEEDED

    async def test_a_refund_on_a_channel_no_longer_configured_waits_pending(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        create_refund = CreateRefund(
            gateway.uow, {}, gateway.clock, gateway.ids, gateway.refund_recorder, gateway.trail
        )
        outcome = await create_refund(
            CreateRefundCommand(payment_no=payment_no, merchant_id=merchant_id, amount=500)
        )
        assert gateway.db.refund(outcome.refund.refund_no).status is RefundStatus.PENDING
        assert gateway.db.payment(payment_no).refund_reserved == 500

    async def test_refund_and_payment_are_announced_when_notify_url_is_set(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id, notify_url="https://m.example/h")
        await gateway.refund(payment_no, 1_000, merchant_id)
        gateway.channel.script_refunds(refund_failed())
        await gateway.refund(payment_no, 1_000, merchant_id)
        await gateway.refund(payment_no, None, merchant_id)
        assert gateway.db.notified_types() == [
            "payment.succeeded",
            "refund.succeeded",
            "payment.partially_refunded",
            "refund.failed",
            "refund.succeeded",
            "payment.refunded",
        ]

    async def test_the_reservation_is_committed_before_the_channel_is_asked(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        reserved_when_asked: list[int] = []

        async def look(request: object) -> None:
            reserved_when_asked.append(gateway.db.payment(payment_no).refund_reserved)

        gateway.channel.before_answer = look
        await gateway.refund(payment_no, 1_234, merchant_id)
        assert reserved_when_asked == [1_234]
        assert gateway.channel.calls_in_transaction == 0

    async def test_a_database_outage_after_the_channel_refunded_answers_the_refund_pending(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        """Money moved: the operator or merchant gets the refund as it stands, not a 503
        that says nothing was written; the reconciler records the outcome."""
        payment_no = await captured(gateway, merchant_id)

        async def database_goes_down(request: object) -> None:
            gateway.db.down = True

        gateway.channel.before_answer = database_goes_down
        outcome = await gateway.refund(payment_no, 2_500, merchant_id)
        gateway.db.down = False

        stored = gateway.db.refund(outcome.refund.refund_no)
        assert (outcome.refund.status, stored.status) == (RefundStatus.PENDING,) * 2
        assert (outcome.payment.refund_reserved, outcome.payment.status) == (2_500, S.SUCCEEDED)
        gateway.clock.advance(seconds=61)
        await gateway.reconcile()
        assert gateway.db.refund(outcome.refund.refund_no).status is RefundStatus.SUCCEEDED
        assert gateway.db.payment(payment_no).refunded_amount == 2_500


class TestRequestKey:
    """The Idempotency-Key travels with the refund: a retry that outlives its key's claim
    (a crashed worker, a response that could not be stored) must find the refund, not make
    another one."""

    async def test_a_second_run_under_the_same_key_answers_the_first_refund(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        command = CreateRefundCommand(
            payment_no=payment_no, merchant_id=merchant_id, amount=2_500, request_key="k-1"
        )
        first = await gateway.create_refund(command)
        again = await gateway.create_refund(command)

        assert again.refund.refund_no == first.refund.refund_no
        assert again.refund.status is RefundStatus.SUCCEEDED
        assert len(gateway.db.refunds) == 1
        assert sum(gateway.channel.refunds.values()) == 1
        payment = gateway.db.payment(payment_no)
        assert (payment.refunded_amount, payment.refund_reserved) == (2_500, 2_500)

    async def test_the_first_refund_is_answered_even_when_the_retry_asks_another_amount(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        """The key names the refund; a different body under it is refused earlier, by the
        idempotency store, while the key is kept; after that the refund still stands."""
        payment_no = await captured(gateway, merchant_id)
        first = await gateway.create_refund(CreateRefundCommand(
            payment_no=payment_no, merchant_id=merchant_id, amount=2_500, request_key="k-1"))
        again = await gateway.create_refund(CreateRefundCommand(
            payment_no=payment_no, merchant_id=merchant_id, amount=7_500, request_key="k-1"))
        assert again.refund.refund_no == first.refund.refund_no
        assert gateway.db.payment(payment_no).refunded_amount == 2_500

    async def test_the_key_names_a_refund_of_one_payment_only(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        one, two = await captured(gateway, merchant_id), await captured(gateway, merchant_id)
        first = await gateway.create_refund(CreateRefundCommand(
            payment_no=one, merchant_id=merchant_id, amount=1_000, request_key="k-1"))
        second = await gateway.create_refund(CreateRefundCommand(
            payment_no=two, merchant_id=merchant_id, amount=1_000, request_key="k-1"))
        assert first.refund.refund_no != second.refund.refund_no
        assert gateway.db.refund(second.refund.refund_no).request_key == "k-1"

    async def test_refunds_without_a_key_are_each_their_own(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await captured(gateway, merchant_id)
        await gateway.refund(payment_no, 1_000, merchant_id)
        await gateway.refund(payment_no, 1_000, merchant_id)
        assert gateway.db.payment(payment_no).refunded_amount == 2_000
