"""The ledger and settlement repository contracts, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from db_builders import T0, captured, merchant, payment
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import SqlUnitOfWorkFactory
from application.errors import AlreadySettled, ConcurrentUpdate
from domain.ledger import (
    ACQUIRER_RECEIVABLE,
    FEE_REVENUE,
    capture_posting,
    merchant_balance,
    settlement_postings,
)
from domain.settlement import Settlement

pytestmark = pytest.mark.usefixtures("migrated_url")


def _settlement(
    merchant_id: str = "mer_1", currency: str = "USD", **overrides: object
) -> Settlement:
    fields: dict[str, object] = {
        "settlement_id": f"stl_{merchant_id}_{currency}",
        "merchant_id": merchant_id,
        "currency": currency,
        "day": date(2026, 11, 23),
        "gross": 10_000,
        "refunds": 1_000,
        "fees": 320,
        "payment_count": 1,
        "refund_count": 1,
        "created_at": T0,
    }
    return Settlement(**(fields | overrides))  # type: ignore[arg-type]


async def test_postings_add_up_to_balances_per_account_and_currency(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    ours, theirs = captured(payment("mer_1")), captured(payment("mer_2"))
    await seed(merchant("mer_1"), merchant("mer_2"))
    stl = _settlement()

    async with uow_factory() as uow:
        await uow.ledger.append([capture_posting(ours, T0), capture_posting(theirs, T0)])
        await uow.ledger.append(settlement_postings(stl, T0))
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        mine = await uow.ledger.balances("mer_1")
        everyone = await uow.ledger.balances()

    assert mine == {
        (ACQUIRER_RECEIVABLE, "USD"): 10_000,
        (merchant_balance("mer_1"), "USD"): -10_000 + 320 + 8_680,
        (FEE_REVENUE, "USD"): -320,
        ("merchant_payout:mer_1", "USD"): -8_680,
    }
    assert everyone[(ACQUIRER_RECEIVABLE, "USD")] == 20_000
    assert sum(everyone.values()) == 0


async def test_recording_the_same_posting_twice_is_a_concurrent_update(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    p = captured(payment())
    await seed(merchant())
    async with uow_factory() as uow:
        await uow.ledger.append([capture_posting(p, T0)])
        await uow.commit()

    async with uow_factory() as uow:
        with pytest.raises(ConcurrentUpdate):
            await uow.ledger.append([capture_posting(p, T0)])

    async with uow_factory(read_only=True) as uow:
        assert (await uow.ledger.balances())[(ACQUIRER_RECEIVABLE, "USD")] == 10_000


async def test_ledger_rows_can_be_neither_updated_nor_deleted(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant())
    async with uow_factory() as uow:
        await uow.ledger.append([capture_posting(captured(payment()), T0)])
        await uow.commit()

    for statement in ("UPDATE ledger_entries SET amount = 1", "DELETE FROM ledger_entries"):
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError, match="append-only"):
                await conn.execute(text(statement))

    async with uow_factory(read_only=True) as uow:
        assert (await uow.ledger.balances())[(ACQUIRER_RECEIVABLE, "USD")] == 10_000


async def test_a_settlement_reads_back_and_a_second_one_for_the_day_is_refused(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant("mer_1"), merchant("mer_2"))
    usd, eur, other = _settlement(), _settlement(currency="EUR"), _settlement("mer_2")
    async with uow_factory() as uow:
        for settlement in (usd, eur, other):
            await uow.settlements.add(settlement)
        await uow.commit()

    async with uow_factory() as uow:
        with pytest.raises(AlreadySettled):
            await uow.settlements.add(_settlement(settlement_id="stl_again"))

    async with uow_factory(read_only=True) as uow:
        assert await uow.settlements.list("mer_1") == [eur, usd]
        assert await uow.settlements.list(day=date(2026, 11, 23)) == [eur, usd, other]
        assert await uow.settlements.list(day=date(2026, 11, 24)) == []
