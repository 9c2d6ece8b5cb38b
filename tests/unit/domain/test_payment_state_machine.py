"""Every status x every move: the allowed ones land where the contract says, the rest raise."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from domain.authorization import CaptureMethod, HoldMove
from domain.errors import InvalidStatus
from domain.money import Money
from domain.payment import REVIEW_REJECTED, RISK_REJECTED, Payment, PaymentStatus
from domain.refund import Refund
from domain.risk import RiskDecision, Verdict
from tests.unit.domain.builders import HELD_UNTIL, LATER, T0, new_payment, payment_in

S = PaymentStatus
Move = Callable[[Payment], Callable[[], object]]


def _completing(amount_of: Callable[[Payment], int]) -> Move:
    def prepare(payment: Payment) -> Callable[[], object]:
        amount = amount_of(payment)
        # as if a refund of this amount had been reserved: only the status decides
        payment.refund_reserved += amount
        refund = Refund.open("ref_m", payment, Money(amount, payment.currency), T0, None)
        return lambda: payment.complete_refund(refund, LATER)

    return prepare


def _claimed(move: HoldMove, then: Callable[[Payment], object]) -> Move:
    """As if a capture (of 1,000) or a void had been claimed: only the status decides."""

    def prepare(payment: Payment) -> Callable[[], object]:
        payment.pending_move, payment.pending_capture = move, 1_000 * (move is CAPTURE)
        return lambda: then(payment)

    return prepare


def _expired(payment: Payment) -> Callable[[], object]:
    payment.capture_before = T0
    return lambda: payment.begin_expiry(LATER)


def _manual(payment: Payment) -> Callable[[], object]:
    payment.capture_method = CaptureMethod.MANUAL
    return lambda: payment.authorize(LATER, HELD_UNTIL, "ch_9")


CAPTURE, VOID = HoldMove.CAPTURE, HoldMove.VOID
MOVES: dict[str, Move] = {
    "approve_by_risk": lambda p: lambda: p.apply_risk(RiskDecision(Verdict.APPROVE, 5), LATER),
    "review_by_risk": lambda p: lambda: p.apply_risk(RiskDecision(Verdict.REVIEW, 60), LATER),
    "reject_by_risk": lambda p: lambda: p.apply_risk(RiskDecision(Verdict.REJECT, 95), LATER),
    "approve_review": lambda p: lambda: p.approve_review(LATER),
    "reject_review": lambda p: lambda: p.reject_review(LATER),
    "start_processing": lambda p: lambda: p.start_processing(LATER),
    "succeed": lambda p: lambda: p.succeed(LATER, "ch_9"),
    "fail": lambda p: lambda: p.fail(LATER, "card_declined"),
    "reserve_refund": lambda p: lambda: p.reserve_refund("ref_r", 1_000, LATER),
    "complete_partial_refund": _completing(lambda p: 1_000),
    "complete_remaining_refund": _completing(lambda p: p.amount.amount - p.refunded_amount or 1),
    "authorize": _manual,
    "begin_capture": lambda p: lambda: p.begin_capture(None, LATER),
    "capture": _claimed(CAPTURE, lambda p: p.capture(LATER, "ch_9")),
    "decline_capture": _claimed(CAPTURE, lambda p: p.decline_capture(LATER, "card_declined")),
    "begin_void": lambda p: lambda: p.begin_void(LATER, "out of stock"),
    "begin_expiry": _expired,
    "void": _claimed(VOID, lambda p: p.void(LATER)),
    "release_move": _claimed(CAPTURE, lambda p: p.release_move(LATER)),
    "cancel_review": lambda p: lambda: p.cancel_review(LATER, "customer called"),
}

ALLOWED: dict[tuple[PaymentStatus, str], PaymentStatus] = {
    (S.PENDING, "approve_by_risk"): S.PENDING,
    (S.PENDING, "review_by_risk"): S.REQUIRES_REVIEW,
    (S.PENDING, "reject_by_risk"): S.REJECTED,
    (S.PENDING, "start_processing"): S.PROCESSING,
    (S.REQUIRES_REVIEW, "approve_review"): S.PROCESSING,
    (S.REQUIRES_REVIEW, "reject_review"): S.REJECTED,
    (S.REQUIRES_REVIEW, "cancel_review"): S.CANCELED,
    (S.PROCESSING, "succeed"): S.SUCCEEDED,
    (S.PROCESSING, "fail"): S.FAILED,
    (S.PROCESSING, "authorize"): S.REQUIRES_CAPTURE,
    (S.REQUIRES_CAPTURE, "begin_capture"): S.REQUIRES_CAPTURE,
    (S.REQUIRES_CAPTURE, "capture"): S.SUCCEEDED,
    (S.REQUIRES_CAPTURE, "decline_capture"): S.CANCELED,
    (S.REQUIRES_CAPTURE, "begin_void"): S.REQUIRES_CAPTURE,
    (S.REQUIRES_CAPTURE, "begin_expiry"): S.REQUIRES_CAPTURE,
    (S.REQUIRES_CAPTURE, "void"): S.CANCELED,
    (S.REQUIRES_CAPTURE, "release_move"): S.REQUIRES_CAPTURE,
    (S.SUCCEEDED, "reserve_refund"): S.SUCCEEDED,
    (S.SUCCEEDED, "complete_partial_refund"): S.PARTIALLY_REFUNDED,
    (S.SUCCEEDED, "complete_remaining_refund"): S.REFUNDED,
    (S.PARTIALLY_REFUNDED, "reserve_refund"): S.PARTIALLY_REFUNDED,
    (S.PARTIALLY_REFUNDED, "complete_partial_refund"): S.PARTIALLY_REFUNDED,
    (S.PARTIALLY_REFUNDED, "complete_remaining_refund"): S.REFUNDED,
}
DISALLOWED = [(s, m) for s in PaymentStatus for m in MOVES if (s, m) not in ALLOWED]


class TestPaymentStateMachine:
    @pytest.mark.parametrize(("status", "move"), list(ALLOWED), ids=lambda v: str(v))
    def test_allowed_move_lands_on_the_contract_status(
        self, status: PaymentStatus, move: str
    ) -> None:
        payment = payment_in(status)
        MOVES[move](payment)()
        assert payment.status is ALLOWED[(status, move)]
        assert payment.updated_at == LATER

    @pytest.mark.parametrize(("status", "move"), DISALLOWED, ids=lambda v: str(v))
    def test_any_other_move_raises_invalid_status_and_changes_nothing(
        self, status: PaymentStatus, move: str
    ) -> None:
        payment = payment_in(status)
        perform = MOVES[move](payment)
        before = dataclasses.replace(payment)
        with pytest.raises(InvalidStatus) as error:
            perform()
        assert error.value.code == "invalid_status"
        assert payment == before

    def test_only_failed_rejected_canceled_and_refunded_are_terminal(self) -> None:
        terminal = {s for s in PaymentStatus if payment_in(s).is_terminal}
        assert terminal == {S.FAILED, S.REJECTED, S.CANCELED, S.REFUNDED}


class TestPaymentMoves:
    def test_approval_by_risk_keeps_it_pending_with_the_assessment(self) -> None:
        payment = new_payment()
        payment.apply_risk(RiskDecision(Verdict.APPROVE, 12, ("ok",)), LATER)
        assert payment.status is S.PENDING
        assert payment.risk == RiskDecision(Verdict.APPROVE, 12, ("ok",))
        assert payment.updated_at == LATER

    def test_a_payment_is_assessed_only_once(self) -> None:
        payment = new_payment()
        payment.apply_risk(RiskDecision(Verdict.APPROVE, 12), T0)
        payment.start_processing(T0)
        with pytest.raises(InvalidStatus, match="already assessed"):
            payment.apply_risk(RiskDecision(Verdict.APPROVE, 12), LATER)

    def test_rejection_by_risk_records_risk_rejected(self) -> None:
        payment = payment_in(S.REJECTED)
        assert (payment.failure_code, payment.failure_message) == (
            RISK_REJECTED,
            "the payment was rejected by risk checks",
        )

    def test_rejection_in_review_keeps_the_operators_note(self) -> None:
        payment = payment_in(S.REQUIRES_REVIEW)
        payment.reject_review(LATER, "stolen card reported")
        assert payment.failure_code == REVIEW_REJECTED
        assert payment.failure_message == "stolen card reported"

    def test_rejection_in_review_without_note_explains_itself(self) -> None:
        payment = payment_in(S.REQUIRES_REVIEW)
        payment.reject_review(LATER)
        assert payment.failure_message == "the payment was rejected in manual review"

    def test_success_records_capture_time_reference_and_forgets_the_token(self) -> None:
        payment = payment_in(S.PROCESSING)
        payment.payment_token = "tok_1"
        payment.succeed(LATER, "ch_42")
        assert payment.captured_at == LATER
        assert payment.channel_reference == "ch_42"
        assert payment.payment_token is None

    def test_success_without_reference_keeps_the_known_one(self) -> None:
        payment = payment_in(S.PROCESSING)
        payment.channel_reference = "ch_earlier"
        payment.succeed(LATER)
        assert payment.channel_reference == "ch_earlier"

    def test_failure_records_code_and_a_readable_message(self) -> None:
        payment = payment_in(S.PROCESSING)
        payment.payment_token = "tok_1"
        payment.fail(LATER, "insufficient_funds")
        assert payment.failure_code == "insufficient_funds"
        assert payment.failure_message == "insufficient funds"
        assert payment.payment_token is None
        assert payment.captured_at is None

    def test_failure_keeps_the_channels_message(self) -> None:
        payment = payment_in(S.PROCESSING)
        payment.fail(LATER, "card_declined", "Do not honor")
        assert payment.failure_message == "Do not honor"

    def test_currency_is_the_amounts(self) -> None:
        assert new_payment(currency="JPY").currency == "JPY"
