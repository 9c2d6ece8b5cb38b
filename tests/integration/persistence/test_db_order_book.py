"""The local order book, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.order.local import LocalOrderBook
from adapters.persistence.uow import SqlUnitOfWorkFactory
from application.ports.external import OrderRequest
from domain.money import Money

pytestmark = pytest.mark.usefixtures("migrated_url")
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


def _request(payment_no: str = "pay_1", amount: int = 2_500) -> OrderRequest:
    return OrderRequest(
        "mer_1",
        "ORDER-1",
        payment_no,
        Money(amount, "EUR"),
        description="two mugs",
        metadata={"cart": "42"},
    )


async def _orders(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            text("SELECT merchant_id, order_no, payment_no, amount, currency, status FROM orders")
        )
        return [tuple(row) for row in result]


async def test_creating_an_order_twice_records_it_once(engine: AsyncEngine) -> None:
    book = LocalOrderBook(engine, FixedClock())

    first = await book.create_order(_request())
    again = await book.create_order(_request(payment_no="pay_2", amount=9))

    assert first == again
    assert await _orders(engine) == [("mer_1", "ORDER-1", "pay_1", 2_500, "EUR", "created")]


@pytest.mark.parametrize("ending", ["failed", "rejected", "canceled"])
async def test_another_attempt_takes_an_order_whose_payment_ended_unpaid(
    engine: AsyncEngine, ending: str
) -> None:
    book = LocalOrderBook(engine, FixedClock())
    await book.create_order(_request())
    await book.update_status("mer_1", "ORDER-1", ending)

    await book.create_order(_request(payment_no="pay_2", amount=9))

    assert await _orders(engine) == [("mer_1", "ORDER-1", "pay_2", 9, "EUR", "created")]


@pytest.mark.parametrize("status", ["created", "succeeded"])
async def test_an_order_whose_payment_is_live_or_paid_keeps_it(
    engine: AsyncEngine, status: str
) -> None:
    book = LocalOrderBook(engine, FixedClock())
    await book.create_order(_request())
    await book.update_status("mer_1", "ORDER-1", status)

    await book.create_order(_request(payment_no="pay_2", amount=9))

    assert await _orders(engine) == [("mer_1", "ORDER-1", "pay_1", 2_500, "EUR", status)]


async def test_an_order_follows_its_payment_status(engine: AsyncEngine) -> None:
    book = LocalOrderBook(engine, FixedClock())
    await book.create_order(_request())

    await book.update_status("mer_1", "ORDER-1", "succeeded")
    await book.update_status("mer_1", "ORDER-UNKNOWN", "failed")

    assert await _orders(engine) == [("mer_1", "ORDER-1", "pay_1", 2_500, "EUR", "succeeded")]


async def test_an_order_written_within_a_unit_of_work_commits_with_it(
    engine: AsyncEngine,
) -> None:
    book, units = LocalOrderBook(engine, FixedClock()), SqlUnitOfWorkFactory(engine)
    async with units() as uow:
        await book.create_order(_request(), within=uow)
        await book.update_status("mer_1", "ORDER-1", "succeeded", within=uow)
        assert await _orders(engine) == []  # not visible before the commit
        await uow.commit()

    assert await _orders(engine) == [("mer_1", "ORDER-1", "pay_1", 2_500, "EUR", "succeeded")]


async def test_an_order_written_within_a_unit_of_work_rolls_back_with_it(
    engine: AsyncEngine,
) -> None:
    book, units = LocalOrderBook(engine, FixedClock()), SqlUnitOfWorkFactory(engine)
    async with units() as uow:
        await book.create_order(_request(), within=uow)
        # leaving without commit(), as when the payment insert fails


    assert await _orders(engine) == []


async def test_the_local_book_joins_only_paygates_own_units_of_work(
    engine: AsyncEngine,
) -> None:
    book = LocalOrderBook(engine, FixedClock())
    with pytest.raises(TypeError, match="units of work"):
        await book.create_order(_request(), within=object())  # type: ignore[arg-type]
    assert await _orders(engine) == []
