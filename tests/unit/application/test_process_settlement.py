from datetime import date, datetime, timedelta

import pytest

from application.commands import SettleCommand
from application.errors import NotFound, ValidationFailed
from application.use_cases.process_settlement import ProcessSettlement
from domain.ledger import FEE_REVENUE, merchant_payout
from domain.settlement import Settlement
from tests.unit.fakes import FakeUnitOfWorkFactory, Gateway
from tests.unit.fakes.channel import DECLINED, TIMES_OUT
from tests.unit.fakes.platform import START
from tests.unit.fakes.storage import FakeUnitOfWork

DAY = START.date()  # 2026-11-23, payments are taken from 10:00 UTC
NEXT_MORNING = datetime.combine(DAY + timedelta(days=1), START.timetz()).replace(hour=0, minute=5)


def for_day(merchant_id: str, day: date = DAY) -> SettleCommand:
    return SettleCommand(merchant_id=merchant_id, day=day)


class TestProcessSettlement:
    async def test_fees_are_basis_points_rounded_half_up_plus_a_fixed_fee_per_payment(
        self, gateway: Gateway
    ) -> None:
        merchant_id = await gateway.onboard(basis_points=250, fixed=10)
        for amount in (1_020, 1_002, 10_000):  # 25.5 -> 26, 25.05 -> 25, 250 exactly
            await gateway.pay(merchant_id, amount=amount)
        gateway.clock.set(NEXT_MORNING)

        [usd] = await gateway.settle(for_day(merchant_id))

        assert (usd.currency, usd.day, usd.gross, usd.payment_count) == ("USD", DAY, 12_022, 3)
        assert usd.fees == (26 + 10) + (25 + 10) + (250 + 10)
        assert usd.net == 12_022 - 331
        assert usd.created_at == NEXT_MORNING
        assert gateway.db.settlements == [usd]

    async def test_refunds_of_the_day_reduce_the_net(self, gateway: Gateway) -> None:
        merchant_id = await gateway.onboard(basis_points=100, fixed=0)
        payment = await gateway.pay(merchant_id, amount=10_000)
        await gateway.refund(payment.payment_no, 2_500, merchant_id)
        gateway.clock.set(NEXT_MORNING)

        [usd] = await gateway.settle(for_day(merchant_id))

        assert (usd.gross, usd.refunds, usd.fees, usd.net) == (10_000, 2_500, 100, 7_400)
        assert (usd.payment_count, usd.refund_count) == (1, 1)

    async def test_only_captures_count_not_failed_or_unresolved_payments(
        self, gateway: Gateway
    ) -> None:
        merchant_id = await gateway.onboard(basis_points=0, fixed=30)
        await gateway.pay(merchant_id, amount=5_000)
        await gateway.pay(merchant_id, DECLINED, amount=7_000)
        await gateway.pay(merchant_id, TIMES_OUT, amount=9_000)
        gateway.clock.set(NEXT_MORNING)

        [usd] = await gateway.settle(for_day(merchant_id))

        assert (usd.gross, usd.fees, usd.payment_count) == (5_000, 30, 1)

    async def test_each_currency_is_settled_apart(self, gateway: Gateway) -> None:
        merchant_id = await gateway.onboard(basis_points=0, fixed=1)
        await gateway.pay(merchant_id, amount=10_000, currency="USD")
        await gateway.pay(merchant_id, amount=5_000, currency="JPY")
        await gateway.pay(merchant_id, amount=1_500, currency="KWD")
        await gateway.pay(merchant_id, amount=2_000, currency="JPY")
        gateway.clock.set(NEXT_MORNING)

        settlements = await gateway.settle(for_day(merchant_id))

        assert [(s.currency, s.gross, s.fees, s.net) for s in settlements] == [
            ("JPY", 7_000, 2, 6_998),
            ("KWD", 1_500, 1, 1_499),
            ("USD", 10_000, 1, 9_999),
        ]

    async def test_another_days_activity_is_not_settled(self, gateway: Gateway) -> None:
        merchant_id = await gateway.onboard()
        await gateway.pay(merchant_id, amount=10_000)
        gateway.clock.set(NEXT_MORNING)
        await gateway.pay(merchant_id, amount=99_000)
        gateway.clock.advance(days=1)

        [usd] = await gateway.settle(for_day(merchant_id))
        assert usd.gross == 10_000
        assert await gateway.settle(for_day(merchant_id, DAY - timedelta(days=1))) == []

    async def test_settling_a_day_twice_returns_the_first_result_and_writes_nothing(
        self, gateway: Gateway
    ) -> None:
        merchant_id = await gateway.onboard()
        await gateway.pay(merchant_id, amount=10_000, currency="USD")
        await gateway.pay(merchant_id, amount=10_000, currency="EUR")
        gateway.clock.set(NEXT_MORNING)
        first = await gateway.settle(for_day(merchant_id))
        written = (list(gateway.db.settlements), list(gateway.db.postings), gateway.db.commits)

        gateway.clock.advance(hours=2)
        second = await gateway.settle(for_day(merchant_id))

        assert second == first
        assert len(first) == 2
        assert (gateway.db.settlements, gateway.db.postings, gateway.db.commits) == written

    async def test_a_settlement_racing_another_worker_returns_the_winners(
        self, gateway: Gateway
    ) -> None:
        merchant_id = await gateway.onboard()
        await gateway.pay(merchant_id, amount=10_000)
        gateway.clock.set(NEXT_MORNING)
        winner: list[Settlement] = []

        class LateUnitOfWork(FakeUnitOfWorkFactory):
            """The other worker commits between our 'already settled?' check and our insert."""

            def __call__(self, *, read_only: bool = False) -> FakeUnitOfWork:
                uow = super().__call__(read_only=read_only)
                check = uow.settlements.list

                async def check_then_lose(*args: object) -> list[Settlement]:
                    rows = await check(*args)  # type: ignore[arg-type]
                    if not winner:
                        winner.extend(await gateway.settle(for_day(merchant_id)))
                    return rows

                uow.settlements.list = check_then_lose  # type: ignore[method-assign]
                return uow

        loser = ProcessSettlement(
            LateUnitOfWork(gateway.db), gateway.clock, gateway.ids, gateway.trail)
        assert await loser(for_day(merchant_id)) == winner
        assert gateway.db.settlements == winner
        assert [p.posting_id.split(":")[0] for p in gateway.db.postings] == [
            "capture",
            "fee",
            "payout",
        ]

    @pytest.mark.parametrize("days_ahead", [0, 1])
    async def test_a_day_that_has_not_ended_cannot_be_settled(
        self, gateway: Gateway, merchant_id: str, days_ahead: int
    ) -> None:
        await gateway.pay(merchant_id)
        gateway.clock.set(datetime.combine(DAY, START.timetz()).replace(hour=23, minute=59))
        with pytest.raises(ValidationFailed, match="has not ended") as error:
            await gateway.settle(for_day(merchant_id, DAY + timedelta(days=days_ahead)))
        assert error.value.code == "validation_error"
        assert gateway.db.settlements == []

    async def test_an_unknown_merchant_is_not_found(self, gateway: Gateway) -> None:
        gateway.clock.set(NEXT_MORNING)
        with pytest.raises(NotFound, match="mch_missing"):
            await gateway.settle(for_day("mch_missing"))

    async def test_the_fee_is_revenue_and_the_net_is_paid_out(self, gateway: Gateway) -> None:
        merchant_id = await gateway.onboard(basis_points=290, fixed=30)
        await gateway.pay(merchant_id, amount=10_000)
        gateway.clock.set(NEXT_MORNING)
        await gateway.settle(for_day(merchant_id))
        assert -gateway.db.account_balance(FEE_REVENUE, "USD") == 320
        assert -gateway.db.account_balance(merchant_payout(merchant_id), "USD") == 9_680
        assert gateway.merchant_balance(merchant_id, "USD") == 0

    async def test_a_day_of_only_refunds_claims_the_money_back_from_the_merchant(
        self, gateway: Gateway
    ) -> None:
        merchant_id = await gateway.onboard(basis_points=0, fixed=0)
        payment = await gateway.pay(merchant_id, amount=10_000)
        gateway.clock.set(NEXT_MORNING)
        await gateway.settle(for_day(merchant_id))
        await gateway.refund(payment.payment_no, 4_000, merchant_id)
        gateway.clock.advance(days=1)

        [usd] = await gateway.settle(for_day(merchant_id, DAY + timedelta(days=1)))

        assert (usd.gross, usd.refunds, usd.net) == (0, 4_000, -4_000)
        assert gateway.merchant_balance(merchant_id, "USD") == 0
        assert -gateway.db.account_balance(merchant_payout(merchant_id), "USD") == 6_000
