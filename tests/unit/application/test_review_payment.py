import pytest

from application.commands import ReviewPaymentCommand
from application.errors import NotFound, ValidationFailed
from application.ports.channel import ChargeResult, Outcome
from application.use_cases.review_payment import ReviewPayment
from domain.errors import InvalidChannel, InvalidStatus
from domain.payment import PaymentStatus
from tests.unit.fakes import Gateway
from tests.unit.fakes.channel import DECLINED, declined
from tests.unit.fakes.external import REVIEW_CARD

S = PaymentStatus


async def under_review(gateway: Gateway, merchant_id: str, **overrides: object) -> str:
    payment = await gateway.pay(merchant_id, REVIEW_CARD, **overrides)
    return payment.payment_no


class TestReviewPayment:
    async def test_approval_charges_the_kept_token_and_the_payment_succeeds(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await under_review(gateway, merchant_id, order_no="ORDER-R")
        gateway.clock.advance(minutes=30)

        payment = await gateway.review(payment_no, "approve")

        stored = gateway.db.payment(payment_no)
        assert stored == payment
        assert stored.status is S.SUCCEEDED
        assert stored.payment_token is None
        assert stored.captured_at == gateway.clock.now()
        [request] = gateway.channel.charge_requests
        assert (request.card, request.token) == (None, "tok_1")
        assert gateway.merchant_balance(merchant_id, "USD") == 10_000
        assert gateway.orders.statuses[(merchant_id, "ORDER-R")] == "succeeded"

    async def test_approved_payment_whose_card_is_then_declined_fails(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await under_review(gateway, merchant_id)
        gateway.channel.script_charges(declined("card_declined"))
        await gateway.review(payment_no, "approve")
        stored = gateway.db.payment(payment_no)
        assert (stored.status, stored.failure_code) == (S.FAILED, "card_declined")

    async def test_approval_whose_charge_is_not_answered_waits_in_processing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await under_review(gateway, merchant_id)
        gateway.channel.script_charges(ChargeResult(Outcome.UNKNOWN))
        await gateway.review(payment_no, "approve")
        assert gateway.db.payment(payment_no).status is S.PROCESSING

    async def test_rejection_ends_it_rejected_with_the_note_and_charges_nothing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await under_review(gateway, merchant_id, notify_url="https://m.example/h")
        payment = await gateway.review(payment_no, "reject", "card reported stolen")

        stored = gateway.db.payment(payment_no)
        assert stored == payment
        assert (stored.status, stored.failure_code, stored.failure_message) == (
            S.REJECTED,
            "review_rejected",
            "card reported stolen",
        )
        assert gateway.channel.charges == {}
        assert gateway.db.notified_types() == ["payment.rejected"]

    async def test_a_decision_other_than_approve_or_reject_is_refused(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await under_review(gateway, merchant_id)
        with pytest.raises(ValidationFailed):
            await gateway.review(payment_no, "maybe")
        assert gateway.db.payment(payment_no).status is S.REQUIRES_REVIEW

    async def test_reviewing_an_unknown_payment_is_not_found(self, gateway: Gateway) -> None:
        with pytest.raises(NotFound):
            await gateway.review("pay_missing", "approve")

    @pytest.mark.parametrize("decision", ["approve", "reject"])
    async def test_a_payment_not_under_review_cannot_be_reviewed(
        self, gateway: Gateway, merchant_id: str, decision: str
    ) -> None:
        payment = await gateway.pay(merchant_id, DECLINED)
        before = gateway.db.payment(payment.payment_no)
        with pytest.raises(InvalidStatus):
            await gateway.review(payment.payment_no, decision)
        assert gateway.db.payment(payment.payment_no) == before
        assert sum(gateway.channel.charges.values()) == 1

    async def test_a_payment_reviewed_twice_is_charged_once(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await under_review(gateway, merchant_id)
        await gateway.review(payment_no, "approve")
        with pytest.raises(InvalidStatus):
            await gateway.review(payment_no, "approve")
        assert gateway.channel.charges == {payment_no: 1}

    async def test_approval_on_a_channel_no_longer_configured_changes_nothing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment_no = await under_review(gateway, merchant_id)
        review = ReviewPayment(
            gateway.uow, {}, gateway.clock, gateway.ids, gateway.charge_recorder, gateway.trail)
        with pytest.raises(InvalidChannel):
            await review(ReviewPaymentCommand(payment_no=payment_no, decision="approve"))
        assert gateway.db.payment(payment_no).status is S.REQUIRES_REVIEW
