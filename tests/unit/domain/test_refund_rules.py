from decimal import Decimal

import pytest

from domain.errors import AmountExceeded, InvalidAmount, InvalidStatus
from domain.money import Money
from domain.payment import PaymentStatus
from domain.refund import RefundStatus
from tests.unit.domain.builders import LATER, T0, new_payment, payment_in

S = PaymentStatus


class TestReservingRefunds:
    def test_partial_refund_reserves_its_amount_and_opens_a_pending_refund(self) -> None:
        payment = payment_in(S.SUCCEEDED)
        refund = payment.reserve_refund("ref_1", 2_500, LATER, "damaged")
        assert (refund.refund_no, refund.payment_no, refund.merchant_id) == (
            "ref_1",
            "pay_1",
            "mch_1",
        )
        assert refund.amount == Money(2_500, "USD")
        assert refund.currency == "USD"
        assert (refund.status, refund.reason, refund.created_at) == (
            RefundStatus.PENDING,
            "damaged",
            LATER,
        )
        assert payment.refund_reserved == 2_500
        assert payment.refundable == 7_500
        assert payment.refunded_amount == 0
        assert payment.status is S.SUCCEEDED

    def test_omitted_amount_refunds_everything_left(self) -> None:
        payment = payment_in(S.PARTIALLY_REFUNDED)
        refund = payment.reserve_refund("ref_2", None, LATER)
        assert refund.amount == Money(7_500, "USD")
        assert payment.refundable == 0

    def test_pending_refunds_count_against_what_is_left(self) -> None:
        payment = payment_in(S.SUCCEEDED)
        payment.reserve_refund("ref_1", 6_000, LATER)
        with pytest.raises(AmountExceeded) as error:
            payment.reserve_refund("ref_2", 5_000, LATER)
        assert error.value.details["remaining"] == 4_000
        assert payment.refund_reserved == 6_000

    def test_refund_larger_than_remaining_says_how_much_is_left(self) -> None:
        payment = payment_in(S.PARTIALLY_REFUNDED)
        with pytest.raises(AmountExceeded) as error:
            payment.reserve_refund("ref_2", 7_501, LATER)
        assert error.value.code == "amount_exceeded"
        assert error.value.details == {"remaining": 7_500, "currency": "USD"}
        assert "75.00 USD" in error.value.message
        assert payment.refund_reserved == 2_500

    def test_nothing_left_to_refund_is_amount_exceeded(self) -> None:
        payment = payment_in(S.SUCCEEDED)
        payment.reserve_refund("ref_1", None, LATER)
        with pytest.raises(AmountExceeded) as error:
            payment.reserve_refund("ref_2", None, LATER)
        assert error.value.details["remaining"] == 0

    @pytest.mark.parametrize("amount", [0, -1, 10.0, Decimal(1), True, "100"])
    def test_amount_must_be_a_positive_integer(self, amount: object) -> None:
        payment = payment_in(S.SUCCEEDED)
        with pytest.raises(InvalidAmount) as error:
            payment.reserve_refund("ref_1", amount, LATER)
        assert error.value.code == "invalid_amount"
        assert error.value.details == {"currency": "USD"}
        assert payment.refund_reserved == 0

    @pytest.mark.parametrize(
        "status",
        [S.PENDING, S.REQUIRES_REVIEW, S.PROCESSING, S.FAILED, S.REJECTED, S.REFUNDED],
    )
    def test_only_captured_and_not_fully_refunded_payments_can_be_refunded(
        self, status: PaymentStatus
    ) -> None:
        payment = payment_in(status)
        with pytest.raises(InvalidStatus) as error:
            payment.reserve_refund("ref_1", None, LATER)
        assert error.value.details == {"status": status.value, "currency": "USD"}


class TestFinishingRefunds:
    def test_succeeded_partial_refund_makes_the_payment_partially_refunded(self) -> None:
        payment = payment_in(S.SUCCEEDED)
        refund = payment.reserve_refund("ref_1", 4_000, T0)
        refund.succeed(LATER, "re_1")
        payment.complete_refund(refund, LATER)
        assert payment.status is S.PARTIALLY_REFUNDED
        assert (payment.refunded_amount, payment.refund_reserved) == (4_000, 4_000)

    def test_refunds_adding_up_to_the_amount_make_it_refunded(self) -> None:
        payment = payment_in(S.SUCCEEDED)
        for number, amount in enumerate((3_000, 3_000, 4_000)):
            payment.complete_refund(payment.reserve_refund(f"ref_{number}", amount, T0), LATER)
        assert payment.status is S.REFUNDED
        assert payment.refunded_amount == 10_000
        assert payment.is_terminal

    def test_failed_refund_releases_its_reservation(self) -> None:
        payment = payment_in(S.SUCCEEDED)
        refund = payment.reserve_refund("ref_1", 4_000, T0)
        payment.release_refund(refund, LATER)
        assert (payment.refund_reserved, payment.refundable) == (0, 10_000)
        assert payment.status is S.SUCCEEDED
        assert payment.updated_at == LATER

    def test_a_refund_of_another_payment_is_refused(self) -> None:
        payment = payment_in(S.SUCCEEDED)
        other = payment_in(S.SUCCEEDED)
        other.payment_no = "pay_2"
        foreign = other.reserve_refund("ref_9", 1_000, T0)
        payment.reserve_refund("ref_1", 1_000, T0)
        with pytest.raises(InvalidStatus, match="another payment"):
            payment.complete_refund(foreign, LATER)
        with pytest.raises(InvalidStatus, match="another payment"):
            payment.release_refund(foreign, LATER)
        assert (payment.refunded_amount, payment.refund_reserved) == (0, 1_000)

    def test_a_refund_never_reserved_cannot_complete(self) -> None:
        payment = payment_in(S.SUCCEEDED)
        refund = payment.reserve_refund("ref_1", 1_000, T0)
        payment.release_refund(refund, T0)
        with pytest.raises(AmountExceeded, match="never reserved"):
            payment.complete_refund(refund, LATER)
        assert payment.refunded_amount == 0


class TestRefund:
    def test_success_records_reference_and_completion(self) -> None:
        refund = payment_in(S.SUCCEEDED).reserve_refund("ref_1", 100, T0)
        refund.succeed(LATER, "re_1")
        assert (refund.status, refund.channel_reference, refund.completed_at) == (
            RefundStatus.SUCCEEDED,
            "re_1",
            LATER,
        )

    def test_failure_records_code_and_readable_message(self) -> None:
        refund = payment_in(S.SUCCEEDED).reserve_refund("ref_1", 100, T0)
        refund.fail(LATER, "refund_declined")
        assert (refund.status, refund.failure_code, refund.failure_message) == (
            RefundStatus.FAILED,
            "refund_declined",
            "refund declined",
        )

    @pytest.mark.parametrize("first", ["succeed", "fail"])
    @pytest.mark.parametrize("second", ["succeed", "fail"])
    def test_a_finished_refund_never_changes_again(self, first: str, second: str) -> None:
        refund = payment_in(S.SUCCEEDED).reserve_refund("ref_1", 100, T0)
        finish = {"succeed": lambda: refund.succeed(T0), "fail": lambda: refund.fail(T0, "x")}
        finish[first]()
        status = refund.status
        with pytest.raises(InvalidStatus, match="already"):
            finish[second]()
        assert refund.status is status

    def test_refund_currency_is_the_payments(self) -> None:
        payment = new_payment(currency="JPY")
        payment.start_processing(T0)
        payment.succeed(T0)
        assert payment.reserve_refund("ref_1", 5, T0).currency == "JPY"
