"""A payment remembers the states it moved into until they are announced: one event each,
each showing the payment as that move left it."""

from __future__ import annotations

import dataclasses

import pytest

from domain.errors import InvalidStatus
from domain.payment import PaymentStatus
from domain.risk import RiskDecision, Verdict
from tests.unit.domain.builders import LATER, T0, new_payment, payment_in

S = PaymentStatus


class TestUnannouncedMoves:
    def test_a_new_payment_has_moved_nowhere(self) -> None:
        assert new_payment().take_moves() == []

    def test_approval_by_risk_is_not_a_move(self) -> None:
        payment = new_payment()
        payment.apply_risk(RiskDecision(Verdict.APPROVE, 5), T0)
        assert payment.take_moves() == []

    def test_each_move_is_one_state_as_that_move_left_it(self) -> None:
        payment = new_payment()
        payment.start_processing(T0)
        payment.succeed(LATER, "ch_1")

        processing, succeeded = payment.take_moves()

        assert (processing.status, processing.updated_at) == (S.PROCESSING, T0)
        assert (processing.captured_at, processing.channel_reference) == (None, None)
        assert (succeeded.status, succeeded.updated_at) == (S.SUCCEEDED, LATER)
        assert (succeeded.captured_at, succeeded.channel_reference) == (LATER, "ch_1")

    def test_a_moves_last_changes_belong_to_it_not_to_the_next(self) -> None:
        payment = payment_in(S.PROCESSING)
        payment.take_moves()
        payment.fail(T0, "card_declined")

        [failed] = payment.take_moves()

        assert (failed.status, failed.failure_code) == (S.FAILED, "card_declined")

    def test_taking_the_moves_forgets_them(self) -> None:
        payment = payment_in(S.SUCCEEDED)
        assert [m.status for m in payment.take_moves()] == [S.PROCESSING, S.SUCCEEDED]
        assert payment.take_moves() == []

    def test_a_refused_move_is_not_remembered(self) -> None:
        payment = payment_in(S.FAILED)
        payment.take_moves()
        with pytest.raises(InvalidStatus):
            payment.succeed(LATER)
        assert payment.take_moves() == []

    def test_the_states_taken_do_not_change_with_the_payment(self) -> None:
        payment = payment_in(S.PROCESSING)
        [processing] = payment.take_moves()
        payment.succeed(LATER)
        assert processing.status is S.PROCESSING

    def test_a_second_partial_refund_is_a_move_of_its_own(self) -> None:
        payment = payment_in(S.PARTIALLY_REFUNDED)
        payment.take_moves()
        refund = payment.reserve_refund("ref_2", 1_000, LATER)
        payment.complete_refund(refund, LATER)
        assert [m.status for m in payment.take_moves()] == [S.PARTIALLY_REFUNDED]

    def test_moves_are_not_part_of_equality_or_repr(self) -> None:
        moved, still = payment_in(S.PROCESSING), payment_in(S.PROCESSING)
        still.take_moves()
        assert moved == still
        assert "processing" in repr(moved)
        assert dataclasses.replace(moved).status is S.PROCESSING


class TestSnapshot:
    def test_a_snapshot_has_every_field_of_the_payment_and_no_moves(self) -> None:
        payment = new_payment()
        payment.begin_attempt("backup", T0)  # attempts are not compared: checked below
        payment.start_processing(T0)
        payment.succeed(LATER, "ch_1")
        payment.metadata["cart"] = "42"

        copied = payment.snapshot()

        assert copied is not payment
        for field in dataclasses.fields(payment):
            if field.name != "unannounced":
                assert getattr(copied, field.name) is getattr(payment, field.name), field.name
        assert copied.unannounced == []
        assert payment.unannounced != []
        assert copied == payment

    def test_a_snapshot_stays_as_the_payment_stood(self) -> None:
        payment = payment_in(S.PROCESSING)
        copied = payment.snapshot()
        payment.succeed(LATER, "ch_1")
        assert (copied.status, copied.updated_at, copied.channel_reference) == (
            S.PROCESSING, T0, None)
        copied.unannounced.append(copied)
        assert payment.take_moves()[-1].status is S.SUCCEEDED
