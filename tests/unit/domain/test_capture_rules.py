"""Authorize, capture, void and expire: every boundary of a manual payment's hold."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from domain.authorization import CAPTURE_DECLINED, EXPIRED, REQUESTED, HoldMove
from domain.errors import AmountExceeded, AuthorizationExpired, InvalidAmount, InvalidStatus
from domain.payment import Payment, PaymentStatus
from tests.unit.domain.builders import (
    AMOUNT,
    HELD_UNTIL,
    LATER,
    MANUAL,
    T0,
    authorized,
    captured,
    new_payment,
    payment_in,
)

S = PaymentStatus
TICK = timedelta(microseconds=1)


def unchanged_by(payment: Payment, error: type[Exception], move: object) -> Exception:
    """Run `move`, which must raise `error` and leave the payment exactly as it was."""
    before = dataclasses.replace(payment)
    with pytest.raises(error) as raised:
        move()  # type: ignore[operator]
    assert payment == before
    return raised.value


class TestAuthorization:
    def test_authorizing_holds_the_amount_until_capture_before_and_captures_nothing(
        self,
    ) -> None:
        payment = new_payment(method=MANUAL)
        payment.start_processing(T0)
        payment.payment_token = "tok_1"

        payment.authorize(LATER, HELD_UNTIL, "ch_7")

        assert payment.status is S.REQUIRES_CAPTURE
        assert (payment.amount_capturable, payment.amount_captured) == (AMOUNT, 0)
        assert (payment.capture_before, payment.captured_at) == (HELD_UNTIL, None)
        assert (payment.channel_reference, payment.payment_token) == ("ch_7", None)
        assert payment.updated_at == LATER

    def test_an_automatic_payment_is_never_only_authorized(self) -> None:
        payment = payment_in(S.PROCESSING)
        unchanged_by(payment, InvalidStatus, lambda: payment.authorize(LATER, HELD_UNTIL))

    def test_a_manual_payment_is_never_charged_at_once(self) -> None:
        payment = new_payment(method=MANUAL)
        payment.start_processing(T0)
        unchanged_by(payment, InvalidStatus, lambda: payment.succeed(LATER, "ch_1"))

    def test_an_automatic_success_captures_the_whole_amount(self) -> None:
        payment = payment_in(S.SUCCEEDED)
        assert (payment.amount_captured, payment.amount_capturable) == (AMOUNT, 0)

    def test_only_a_payment_requiring_capture_has_anything_capturable(self) -> None:
        capturable = {s: payment_in(s).amount_capturable for s in PaymentStatus}
        assert capturable == {s: AMOUNT if s is S.REQUIRES_CAPTURE else 0 for s in S}


class TestCapture:
    def test_capturing_without_an_amount_claims_everything_held(self) -> None:
        payment = authorized()

        claimed = payment.begin_capture(None, LATER)

        assert claimed == AMOUNT
        assert (payment.pending_move, payment.pending_capture) == (HoldMove.CAPTURE, AMOUNT)
        assert (payment.status, payment.amount_captured) == (S.REQUIRES_CAPTURE, 0)
        assert payment.updated_at == LATER

    def test_a_confirmed_capture_succeeds_with_exactly_the_claimed_amount(self) -> None:
        payment = authorized()
        payment.begin_capture(6_000, T0)

        payment.capture(LATER, "ch_cap")

        assert (payment.status, payment.amount_captured) == (S.SUCCEEDED, 6_000)
        assert (payment.pending_move, payment.pending_capture) == (None, 0)
        assert (payment.captured_at, payment.channel_reference) == (LATER, "ch_cap")
        assert payment.amount_capturable == 0  # the rest is released

    def test_capturing_exactly_what_is_held_is_allowed(self) -> None:
        payment = authorized()
        assert payment.begin_capture(AMOUNT, LATER) == AMOUNT

    def test_capturing_one_unit_more_than_is_held_is_amount_exceeded(self) -> None:
        payment = authorized()
        error = unchanged_by(
            payment, AmountExceeded, lambda: payment.begin_capture(AMOUNT + 1, LATER)
        )
        assert error.details == {"capturable": AMOUNT, "currency": "USD"}  # type: ignore[attr-defined]

    @pytest.mark.parametrize("amount", [0, -1, 1.5, True, "100"])
    def test_a_capture_amount_must_be_a_positive_integer(self, amount: object) -> None:
        payment = authorized()
        error = unchanged_by(payment, InvalidAmount, lambda: payment.begin_capture(amount, LATER))
        assert error.details["currency"] == "USD"  # type: ignore[attr-defined]

    def test_a_capture_just_before_capture_before_is_in_time(self) -> None:
        payment = authorized()
        assert payment.begin_capture(None, HELD_UNTIL - TICK) == AMOUNT

    @pytest.mark.parametrize("late", [timedelta(0), TICK, timedelta(days=1)])
    def test_a_capture_at_or_after_capture_before_is_authorization_expired(
        self, late: timedelta
    ) -> None:
        payment = authorized()
        error = unchanged_by(
            payment, AuthorizationExpired, lambda: payment.begin_capture(None, HELD_UNTIL + late)
        )
        assert error.code == "authorization_expired"  # type: ignore[attr-defined]
        # the payment's own format (docs/api-contract.md), not str(datetime)
        assert error.details == {"capture_before": "2026-11-30T10:00:00.000Z"}  # type: ignore[attr-defined]
        assert str(error).endswith("'s authorization expired at 2026-11-30T10:00:00.000Z")

    def test_an_expired_hold_with_no_recorded_capture_before_says_null_as_the_payment_does(
        self,
    ) -> None:
        payment = dataclasses.replace(
            authorized(), capture_before=None, cancellation_reason=EXPIRED)
        error = unchanged_by(payment, AuthorizationExpired, lambda: payment.begin_capture(None, T0))
        assert error.details == {"capture_before": None}  # type: ignore[attr-defined]

    def test_a_capture_of_an_authorization_voided_on_expiry_is_authorization_expired(
        self,
    ) -> None:
        payment = authorized()
        payment.begin_expiry(HELD_UNTIL)
        payment.void(HELD_UNTIL)
        unchanged_by(payment, AuthorizationExpired, lambda: payment.begin_capture(None, T0))

    def test_a_payment_is_captured_once(self) -> None:
        payment = captured(capture=4_000)
        unchanged_by(payment, InvalidStatus, lambda: payment.begin_capture(1, LATER))

    def test_a_second_capture_after_capture_before_is_still_invalid_status(self) -> None:
        payment = captured()
        unchanged_by(
            payment, InvalidStatus, lambda: payment.begin_capture(None, HELD_UNTIL + TICK)
        )

    @pytest.mark.parametrize("move", [HoldMove.CAPTURE, HoldMove.VOID])
    def test_nothing_new_starts_while_a_capture_or_void_is_on_its_way(
        self, move: HoldMove
    ) -> None:
        payment = authorized()
        if move is HoldMove.CAPTURE:
            payment.begin_capture(None, T0)
        else:
            payment.begin_void(T0)
        for start in (
            lambda: payment.begin_capture(None, LATER),
            lambda: payment.begin_void(LATER),
            lambda: payment.begin_expiry(HELD_UNTIL),
        ):
            error = unchanged_by(payment, InvalidStatus, start)
            assert f"a {move} in progress" in str(error)

    def test_a_declined_capture_cancels_the_payment_having_taken_nothing(self) -> None:
        payment = authorized()
        payment.begin_capture(None, T0)

        payment.decline_capture(LATER, "card_declined")

        assert (payment.status, payment.amount_captured) == (S.CANCELED, 0)
        assert payment.cancellation_reason == CAPTURE_DECLINED
        assert (payment.failure_code, payment.failure_message) == ("card_declined", "card declined")
        assert payment.pending_move is None

    def test_a_declined_capture_keeps_the_channels_message(self) -> None:
        payment = authorized()
        payment.begin_capture(None, T0)
        payment.decline_capture(LATER, "card_declined", "Authorization lapsed")
        assert payment.failure_message == "Authorization lapsed"

    def test_a_capture_that_never_reached_the_channel_leaves_the_hold_as_it_was(self) -> None:
        payment = authorized()
        payment.begin_capture(2_500, T0)

        payment.release_move(LATER)

        assert (payment.status, payment.pending_move, payment.pending_capture) == (
            S.REQUIRES_CAPTURE, None, 0)
        assert payment.updated_at == LATER
        assert payment.begin_capture(None, LATER) == AMOUNT

    def test_nothing_to_release_when_nothing_is_on_its_way(self) -> None:
        payment = authorized()
        unchanged_by(payment, InvalidStatus, lambda: payment.release_move(LATER))

    def test_a_void_confirmation_does_not_settle_a_capture(self) -> None:
        payment = authorized()
        payment.begin_capture(None, T0)
        unchanged_by(payment, InvalidStatus, lambda: payment.void(LATER))


class TestCancel:
    def test_cancelling_an_authorization_claims_its_void_with_the_reason(self) -> None:
        payment = authorized()

        payment.begin_void(LATER, "out of stock")

        assert (payment.pending_move, payment.cancellation_reason) == (
            HoldMove.VOID, "out of stock")
        assert payment.status is S.REQUIRES_CAPTURE
        assert payment.updated_at == LATER

    def test_a_cancel_without_a_reason_is_requested(self) -> None:
        payment = authorized()
        payment.begin_void(LATER)
        assert payment.cancellation_reason == REQUESTED

    def test_a_confirmed_void_cancels_the_payment_having_captured_nothing(self) -> None:
        payment = authorized()
        payment.begin_void(T0, "out of stock")

        payment.void(LATER)

        assert (payment.status, payment.amount_captured) == (S.CANCELED, 0)
        assert (payment.cancellation_reason, payment.pending_move) == ("out of stock", None)
        assert payment.updated_at == LATER

    def test_a_void_that_never_reached_the_channel_forgets_its_reason(self) -> None:
        payment = authorized()
        payment.begin_void(T0, "out of stock")
        payment.release_move(LATER)
        assert (payment.pending_move, payment.cancellation_reason) == (None, None)

    def test_an_authorization_past_capture_before_may_still_be_cancelled(self) -> None:
        payment = authorized()
        payment.begin_void(HELD_UNTIL + timedelta(days=1))
        assert payment.pending_move is HoldMove.VOID

    @pytest.mark.parametrize("status", [S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.REFUNDED])
    def test_a_payment_with_captured_money_is_never_cancelled(self, status: S) -> None:
        payment = payment_in(status)
        unchanged_by(payment, InvalidStatus, lambda: payment.begin_void(LATER))

    def test_a_payment_in_review_is_cancelled_without_the_channel(self) -> None:
        payment = payment_in(S.REQUIRES_REVIEW)
        payment.payment_token = "tok_1"

        payment.cancel_review(LATER)

        assert (payment.status, payment.cancellation_reason) == (S.CANCELED, REQUESTED)
        assert (payment.payment_token, payment.amount_captured) == (None, 0)

    def test_a_payment_in_review_keeps_the_cancel_reason(self) -> None:
        payment = payment_in(S.REQUIRES_REVIEW)
        payment.cancel_review(LATER, "customer called")
        assert payment.cancellation_reason == "customer called"


class TestExpiry:
    def test_a_hold_is_not_expired_until_capture_before(self) -> None:
        payment = authorized()
        assert not payment.is_expired(HELD_UNTIL - TICK)
        assert payment.is_expired(HELD_UNTIL)

    def test_a_payment_without_a_hold_never_expires(self) -> None:
        assert not payment_in(S.SUCCEEDED).is_expired(HELD_UNTIL + timedelta(days=365))

    def test_an_authorization_before_capture_before_cannot_be_expired(self) -> None:
        payment = authorized()
        error = unchanged_by(
            payment, InvalidStatus, lambda: payment.begin_expiry(HELD_UNTIL - TICK))
        assert str(error).endswith(" holds until 2026-11-30T10:00:00.000Z")

    def test_an_authorization_at_capture_before_is_claimed_for_its_void_as_expired(
        self,
    ) -> None:
        payment = authorized()

        payment.begin_expiry(HELD_UNTIL)

        assert (payment.pending_move, payment.cancellation_reason) == (HoldMove.VOID, EXPIRED)
        assert payment.updated_at == HELD_UNTIL


class TestRefundsOfCapturedMoney:
    def test_only_the_captured_amount_is_refundable(self) -> None:
        payment = captured(capture=6_000)
        assert payment.refundable == 6_000

    def test_refunding_more_than_was_captured_is_amount_exceeded(self) -> None:
        payment = captured(capture=6_000)
        unchanged_by(payment, AmountExceeded, lambda: payment.reserve_refund("ref_1", 6_001, LATER))

    def test_refunding_everything_captured_makes_a_partly_captured_payment_refunded(
        self,
    ) -> None:
        payment = captured(capture=6_000)
        refund = payment.reserve_refund("ref_1", None, LATER)

        payment.complete_refund(refund, LATER)

        assert refund.amount.amount == 6_000
        assert (payment.status, payment.refunded_amount) == (S.REFUNDED, 6_000)

    def test_refunding_part_of_a_partial_capture_leaves_it_partially_refunded(self) -> None:
        payment = captured(capture=6_000)
        refund = payment.reserve_refund("ref_1", 5_999, LATER)
        payment.complete_refund(refund, LATER)
        assert payment.status is S.PARTIALLY_REFUNDED

    def test_an_authorization_has_nothing_to_refund(self) -> None:
        payment = authorized()
        unchanged_by(payment, InvalidStatus, lambda: payment.reserve_refund("ref_1", 1, LATER))
