"""A unit of work runs on connections paygate opened itself and hands them back without
SQLAlchemy's private helpers: kept by the pool, or closed with the driver's own call."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite
from db_builders import merchant, only_sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from adapters.persistence import SqlUnitOfWorkFactory, create_engine
from adapters.persistence.schema import metadata
from adapters.persistence.sqlite_connections import OwnedConnection, sqlite_of


async def _add_merchant(uow_factory: SqlUnitOfWorkFactory, merchant_id: str) -> None:
    async with uow_factory() as uow:
        await uow.merchants.add(merchant(merchant_id))
        await uow.commit()


@only_sqlite
async def test_a_sqlite_unit_runs_on_a_connection_of_paygates_own_class(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        raw = sqlite_of(uow._driver)
        await uow.merchants.add(merchant("mer_1"))
        await uow.commit()

    assert type(raw) is OwnedConnection
    assert raw.in_transaction is False


def _is_closed(driver_connection: Any) -> bool:
    if isinstance(driver_connection, aiosqlite.Connection):
        try:
            sqlite_of(driver_connection).execute("SELECT 1")
        except sqlite3.ProgrammingError:  # "Cannot operate on a closed database"
            return True
        return False
    return bool(driver_connection.is_closed())


async def test_units_on_a_pool_that_keeps_no_connection_close_each_one(
    engine_factory: Callable[..., AsyncEngine],
) -> None:
    uow_factory = SqlUnitOfWorkFactory(engine_factory(poolclass=NullPool))

    async with uow_factory() as uow:
        used = uow._driver
        await uow.merchants.add(merchant("mer_1"))
        await uow.commit()
    await _add_merchant(uow_factory, "mer_2")

    assert _is_closed(used)
    async with uow_factory(read_only=True) as uow:
        assert await uow.merchants.get("mer_1") is not None
        assert await uow.merchants.get("mer_2") is not None


async def test_an_in_memory_database_keeps_its_one_connection_between_units() -> None:
    memory = create_engine("sqlite+aiosqlite://")
    try:
        async with memory.begin() as conn:
            await conn.run_sync(metadata.create_all)
        uow_factory = SqlUnitOfWorkFactory(memory)

        await _add_merchant(uow_factory, "mer_1")

        async with uow_factory(read_only=True) as uow:
            assert await uow.merchants.get("mer_1") is not None
    finally:
        await memory.dispose()
