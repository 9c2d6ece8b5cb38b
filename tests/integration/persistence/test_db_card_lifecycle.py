"""The card lifecycle in the database, on SQLite and PostgreSQL: holds and their moves
read back, an order is paid again once its payments ended unpaid, and the money rules a
race could break are refused by the database itself."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from db_builders import T0, authorized, captured, failed, later, merchant, payment
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import SqlUnitOfWorkFactory
from application.ports.storage import PaymentQuery
from domain.authorization import HoldMove
from domain.errors import DuplicateOrder
from domain.money import Money
from domain.payment import Payment
from domain.risk import RiskDecision, Verdict

pytestmark = pytest.mark.usefixtures("migrated_url")
HOLD = timedelta(days=7)


async def _load(uow_factory: SqlUnitOfWorkFactory, payment_no: str) -> Payment:
    async with uow_factory(read_only=True) as uow:
        loaded = await uow.payments.get(payment_no)
    assert loaded is not None
    return loaded


async def _save(uow_factory: SqlUnitOfWorkFactory, p: Payment) -> None:
    async with uow_factory() as uow:
        await uow.payments.update(p)
        await uow.commit()


async def test_a_hold_and_the_capture_on_its_way_read_back_exactly(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    p = authorized(payment())
    await seed(merchant(), p)
    p.begin_capture(6_000, later(5))
    await _save(uow_factory, p)

    loaded = await _load(uow_factory, p.payment_no)

    assert loaded == p
    assert (loaded.pending_move, loaded.pending_capture) == (HoldMove.CAPTURE, 6_000)
    assert loaded.capture_before == T0 + HOLD


async def test_a_captured_part_and_a_cancellation_read_back_exactly(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    kept, voided = authorized(payment()), authorized(payment())
    await seed(merchant(), kept, voided)
    kept.begin_capture(2_500, later(1))
    kept.capture(later(2), "ch_cap")
    voided.begin_void(later(1), "out of stock")
    voided.void(later(2))
    for p in (kept, voided):
        await _save(uow_factory, p)

    assert await _load(uow_factory, kept.payment_no) == kept
    assert (await _load(uow_factory, voided.payment_no)).cancellation_reason == "out of stock"


@pytest.mark.parametrize("ending", ["failed", "rejected", "canceled"])
async def test_an_order_whose_payment_ended_unpaid_takes_another(
    uow_factory: SqlUnitOfWorkFactory, seed, ending: str
) -> None:
    first = payment(order_no="ORDER-1")
    if ending == "failed":
        failed(first)
    elif ending == "rejected":
        first.apply_risk(RiskDecision(Verdict.REJECT, 95, ("blocked",)), T0)
    else:
        authorized(first).begin_void(T0)
        first.void(T0)
    await seed(merchant(), first)

    again = payment(order_no="ORDER-1")
    async with uow_factory() as uow:
        await uow.payments.add(again)
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        holder = await uow.payments.get_by_order_no("mer_1", "ORDER-1")
        attempts = await uow.payments.list(PaymentQuery(merchant_id="mer_1", order_no="ORDER-1"))
    assert holder == again
    assert {p.payment_no for p in attempts.items} == {first.payment_no, again.payment_no}


@pytest.mark.parametrize("holding", ["pending", "requires_capture", "succeeded"])
async def test_an_order_with_a_live_or_paid_payment_refuses_another_naming_it(
    uow_factory: SqlUnitOfWorkFactory, seed, holding: str
) -> None:
    held = payment(order_no="ORDER-1")
    if holding == "requires_capture":
        authorized(held)
    elif holding == "succeeded":
        captured(held)
    await seed(merchant(), failed(payment(order_no="ORDER-1")), held)

    async with uow_factory() as uow:
        with pytest.raises(DuplicateOrder) as refused:
            await uow.payments.add(payment(order_no="ORDER-1"))

    assert refused.value.details == {"order_no": "ORDER-1", "payment_no": held.payment_no}


async def test_an_order_whose_attempts_all_ended_unpaid_has_no_holder(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant(), failed(payment(order_no="O")), failed(payment(order_no="O")))

    async with uow_factory(read_only=True) as uow:
        assert await uow.payments.get_by_order_no("mer_1", "O") is None


@pytest.mark.parametrize(
    ("change", "constraint"),
    [
        ("amount_captured = amount + 1", "captured_within_amount"),
        ("refund_reserved = 2501", "reserved_within_captured"),
        ("status = 'canceled'", "canceled_captured_nothing"),
    ],
)
async def test_the_database_refuses_money_the_rules_forbid(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory, seed, change: str, constraint: str
) -> None:
    p = authorized(payment())
    await seed(merchant(), p)
    p.begin_capture(2_500, T0)
    p.capture(T0)
    await _save(uow_factory, p)

    async with engine.connect() as conn:
        with pytest.raises(IntegrityError, match=constraint):
            await conn.execute(
                text(f"UPDATE payments SET {change} WHERE payment_no = :p"), {"p": p.payment_no}
            )

    assert await _load(uow_factory, p.payment_no) == p


async def test_expiring_holds_are_those_lapsed_by_now_with_nothing_on_their_way(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    soon, later_on = authorized(payment(), hold=timedelta(hours=1)), authorized(payment())
    busy = authorized(payment(), hold=timedelta(hours=1))
    busy.begin_void(T0)
    await seed(merchant(), soon, later_on, busy, captured(payment()))

    async with uow_factory(read_only=True) as uow:
        before = await uow.payments.list_expiring(T0 + timedelta(hours=1, microseconds=-1), 10)
        at = await uow.payments.list_expiring(T0 + timedelta(hours=1), 10)
        all_ = await uow.payments.list_expiring(T0 + HOLD, 10)
        one = await uow.payments.list_expiring(T0 + HOLD, 1)

    assert before == []
    assert [p.payment_no for p in at] == [soon.payment_no]
    assert [p.payment_no for p in all_] == [soon.payment_no, later_on.payment_no]
    assert [p.payment_no for p in one] == [soon.payment_no]


async def test_unanswered_moves_are_the_claims_older_than_the_cutoff(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    capturing, voiding, idle = (authorized(payment()) for _ in range(3))
    capturing.begin_capture(None, later(10))
    voiding.begin_void(later(20))
    await seed(merchant(), capturing, voiding, idle)

    async with uow_factory(read_only=True) as uow:
        early = await uow.payments.list_unanswered_moves(later(10), 10)
        mid = await uow.payments.list_unanswered_moves(later(11), 10)
        late = await uow.payments.list_unanswered_moves(later(21), 10)

    assert early == []
    assert [p.payment_no for p in mid] == [capturing.payment_no]
    assert [p.payment_no for p in late] == [capturing.payment_no, voiding.payment_no]


async def test_settlement_counts_what_was_captured_not_what_was_held(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    part, held = authorized(payment()), authorized(payment())
    part.begin_capture(2_500, T0)
    part.capture(T0)
    await seed(merchant(), part, held, captured(payment()))

    async with uow_factory(read_only=True) as uow:
        amounts = await uow.payments.captured_on("mer_1", date(2026, 11, 23))

    assert sorted(amounts, key=lambda m: m.amount) == [Money(2_500, "USD"), Money(10_000, "USD")]
