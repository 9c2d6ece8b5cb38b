from datetime import date
from itertools import count

import pytest

from domain.errors import InvalidFeeSchedule
from domain.money import Money
from domain.settlement import DayActivity, FeeSchedule, Settlement, settle_day
from tests.unit.domain.builders import T0

DAY = date(2026, 11, 22)


def settle(activity: DayActivity, schedule: FeeSchedule | None = None) -> list[Settlement]:
    numbers = count(1)
    return settle_day(
        "mch_1", DAY, activity, schedule or FeeSchedule(), lambda: f"stl_{next(numbers)}", T0
    )


class TestFeeSchedule:
    @pytest.mark.parametrize(
        ("basis_points", "fixed"),
        [(-1, 30), (290, -1), (True, 30), (290, False), (2.9, 30), (290, 0.3), (10_001, 0),
         (290, 10**12), (290, 10**19)],  # no fixed fee above the largest payment
    )
    def test_invalid_schedule_is_a_validation_error(
        self, basis_points: object, fixed: object
    ) -> None:
        with pytest.raises(InvalidFeeSchedule) as error:
            FeeSchedule(basis_points, fixed)  # type: ignore[arg-type]
        assert error.value.code == "validation_error"

    def test_a_fixed_fee_up_to_the_largest_payment_is_valid(self) -> None:
        assert FeeSchedule(0, 10**12 - 1).fee_for(1) == 10**12 - 1

    def test_free_and_full_percentage_are_valid(self) -> None:
        assert FeeSchedule(0, 0).fee_for(10_000) == 0
        assert FeeSchedule(10_000, 0).fee_for(10_000) == 10_000

    def test_default_price_is_2_9_percent_plus_30(self) -> None:
        assert FeeSchedule().fee_for(10_000) == 290 + 30

    @pytest.mark.parametrize(
        ("amount", "basis_points", "percentage_part"),
        [
            (1, 5_000, 1),
            (3, 5_000, 2),
            (5, 1_000, 1),
            (1, 4_999, 0),
            (14, 1_000, 1),
            (15, 1_000, 2),
        ],
    )
    def test_percentage_is_rounded_half_up(
        self, amount: int, basis_points: int, percentage_part: int
    ) -> None:
        assert FeeSchedule(basis_points, 7).fee_for(amount) == percentage_part + 7


class TestSettleDay:
    def test_one_settlement_per_currency_sorted_by_currency(self) -> None:
        activity = DayActivity(
            captures=(Money(10_000, "USD"), Money(5_000, "EUR"), Money(2_000, "USD")),
            refunds=(Money(1_000, "USD"), Money(700, "JPY")),
        )
        settlements = settle(activity, FeeSchedule(100, 10))
        assert [s.currency for s in settlements] == ["EUR", "JPY", "USD"]
        eur, jpy, usd = settlements
        assert (usd.gross, usd.refunds, usd.fees, usd.net) == (12_000, 1_000, 140, 10_860)
        assert (usd.payment_count, usd.refund_count) == (2, 1)
        assert (eur.gross, eur.refunds, eur.fees, eur.net) == (5_000, 0, 60, 4_940)
        assert (jpy.gross, jpy.fees, jpy.net, jpy.payment_count) == (0, 0, -700, 0)
        assert {s.merchant_id for s in settlements} == {"mch_1"}
        assert {s.day for s in settlements} == {DAY}
        assert len({s.settlement_id for s in settlements}) == 3

    def test_fee_is_computed_per_payment_not_on_the_total(self) -> None:
        [usd] = settle(DayActivity(captures=(Money(5, "USD"),) * 3), FeeSchedule(1_000, 0))
        assert usd.fees == 3  # 0.5 rounds up to 1, three times; on the total it would be 2

    def test_a_day_without_activity_settles_nothing(self) -> None:
        assert settle(DayActivity()) == []
