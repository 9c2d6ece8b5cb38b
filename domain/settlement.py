"""Daily settlement of a merchant, per currency: gross - refunds - fees = net."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from domain.errors import InvalidFeeSchedule
from domain.money import MAX_PAYMENT_MINOR_UNITS, Money


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """A merchant's price: basis points of each captured payment plus a fixed fee per payment."""

    basis_points: int = 290
    fixed: int = 30

    def __post_init__(self) -> None:
        for name, value in (("basis_points", self.basis_points), ("fixed", self.fixed)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidFeeSchedule(f"{name} must be a non-negative integer")
        if self.basis_points > 10_000:
            raise InvalidFeeSchedule("basis_points must be at most 10000 (100 %)")
        if self.fixed > MAX_PAYMENT_MINOR_UNITS:
            raise InvalidFeeSchedule(
                f"fixed must be at most {MAX_PAYMENT_MINOR_UNITS}, the largest payment")

    def fee_for(self, amount: int) -> int:
        """The fee in minor units, the percentage rounded half up."""
        return (amount * self.basis_points + 5_000) // 10_000 + self.fixed


@dataclass(frozen=True, slots=True)
class Settlement:
    settlement_id: str
    merchant_id: str
    currency: str
    day: date
    gross: int
    refunds: int
    fees: int
    payment_count: int
    refund_count: int
    created_at: datetime

    @property
    def net(self) -> int:
        return self.gross - self.refunds - self.fees


@dataclass(frozen=True, slots=True)
class DayActivity:
    """What happened for one merchant on one UTC day: captured and refunded amounts."""

    captures: tuple[Money, ...] = ()
    refunds: tuple[Money, ...] = ()


def settle_day(
    merchant_id: str,
    day: date,
    activity: DayActivity,
    schedule: FeeSchedule,
    new_id: Callable[[], str],
    now: datetime,
) -> list[Settlement]:
    """One settlement per currency that saw activity, sorted by currency."""
    captures: dict[str, list[int]] = defaultdict(list)
    refunds: dict[str, list[int]] = defaultdict(list)
    for money in activity.captures:
        captures[money.currency].append(money.amount)
    for money in activity.refunds:
        refunds[money.currency].append(money.amount)
    return [
        Settlement(
            settlement_id=new_id(),
            merchant_id=merchant_id,
            currency=currency,
            day=day,
            gross=sum(captures[currency]),
            refunds=sum(refunds[currency]),
            fees=sum(schedule.fee_for(amount) for amount in captures[currency]),
            payment_count=len(captures[currency]),
            refund_count=len(refunds[currency]),
            created_at=now,
        )
        for currency in sorted(set(captures) | set(refunds))
    ]
