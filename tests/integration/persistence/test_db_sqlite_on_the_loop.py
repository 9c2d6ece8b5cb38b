"""SQLite units of work run their statements on the event loop's thread, and go to
aiosqlite's thread only for what may block: COMMIT's fsync, and a BEGIN IMMEDIATE that
must wait for another process's write lock (driver.SqliteTransaction)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import aiosqlite
import pytest
from db_builders import merchant, only_sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import SqlUnitOfWorkFactory
from adapters.persistence.driver import sqlite_of

pytestmark = [pytest.mark.usefixtures("migrated_url"), only_sqlite]


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What each trip to an aiosqlite thread carried, in order."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(
        self: aiosqlite.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any:
        seen.append(str(args[0]) if args else getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


@pytest.fixture
def other_process_lock(migrated_url: str) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection, as another process would hold the database."""
    holder = sqlite3.connect(make_url(migrated_url).database, isolation_level=None)
    yield holder
    holder.close()


async def _add_merchant(uow_factory: SqlUnitOfWorkFactory, merchant_id: str) -> None:
    async with uow_factory() as uow:
        await uow.merchants.add(merchant(merchant_id))
        await uow.commit()


async def test_a_write_unit_goes_to_the_thread_only_to_commit(
    uow_factory: SqlUnitOfWorkFactory, trips: list[str]
) -> None:
    await _add_merchant(uow_factory, "mer_warm")  # the pool's first connect has trips of its own
    trips.clear()

    async with uow_factory() as uow:
        await uow.merchants.add(merchant("mer_1"))
        await uow.merchants.add(merchant("mer_2"))
        assert await uow.merchants.get("mer_1") is not None
        await uow.commit()
    async with uow_factory(read_only=True, snapshot=False) as uow:
        assert await uow.merchants.get("mer_2") is not None
    async with uow_factory(read_only=True) as uow:
        assert await uow.merchants.get("mer_1") is not None

    assert trips == ["COMMIT"]  # no BEGIN, statement, ROLLBACK or pool reset in the thread


async def test_a_write_unit_on_a_used_connection_begins_without_reading_its_busy_timeout(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    await _add_merchant(uow_factory, "mer_warm")  # the connection's busy timeout is known now
    sent: list[str] = []
    async with uow_factory(read_only=True, snapshot=False) as uow:  # the one idle connection
        sqlite_of(uow._driver).set_trace_callback(sent.append)
    try:
        await _add_merchant(uow_factory, "mer_1")
    finally:
        async with uow_factory(read_only=True, snapshot=False) as uow:
            sqlite_of(uow._driver).set_trace_callback(None)

    # BEGIN is tried with no wait at all (another process may hold the lock), then the
    # connection's own timeout is put back: no statement to read it first
    assert sent[:3] == ["PRAGMA busy_timeout = 0", "BEGIN IMMEDIATE", "PRAGMA busy_timeout = 5000"]
    assert sent[3].startswith("INSERT INTO merchants")


async def test_a_unit_that_fails_rolls_back_on_the_loop_and_keeps_nothing(
    uow_factory: SqlUnitOfWorkFactory, trips: list[str]
) -> None:
    await _add_merchant(uow_factory, "mer_warm")
    trips.clear()

    async def fail_after_a_write() -> None:
        async with uow_factory() as uow:
            await uow.merchants.add(merchant("mer_1"))
            raise LookupError

    with pytest.raises(LookupError):
        await fail_after_a_write()

    async with uow_factory(read_only=True) as uow:
        assert await uow.merchants.get("mer_1") is None
    assert trips == []


async def test_a_writer_waits_for_another_process_in_the_thread_while_the_loop_runs(
    uow_factory: SqlUnitOfWorkFactory, other_process_lock: sqlite3.Connection, trips: list[str]
) -> None:
    await _add_merchant(uow_factory, "mer_warm")
    trips.clear()
    other_process_lock.execute("BEGIN IMMEDIATE")
    writer = asyncio.create_task(_add_merchant(uow_factory, "mer_1"))
    ticks = 0
    for _ in range(20):  # 200 ms in which the loop must keep serving other tasks
        await asyncio.sleep(0.01)
        ticks += 1
    assert not writer.done()  # waiting for the lock, not failed
    other_process_lock.execute("COMMIT")
    await writer

    assert ticks == 20
    assert trips == ["BEGIN IMMEDIATE", "COMMIT"]
    async with uow_factory() as uow:  # the zero timeout of the first try was put back
        assert sqlite_of(uow._driver).execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert await uow.merchants.get("mer_1") is not None


async def test_a_writer_cancelled_while_waiting_does_not_hand_on_a_stray_transaction(
    engine: AsyncEngine,
    uow_factory: SqlUnitOfWorkFactory,
    other_process_lock: sqlite3.Connection,
) -> None:
    await _add_merchant(uow_factory, "mer_warm")  # the pool holds one idle connection now
    other_process_lock.execute("BEGIN IMMEDIATE")
    writer = asyncio.create_task(_add_merchant(uow_factory, "mer_cancelled"))
    await asyncio.sleep(0.1)
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writer
    other_process_lock.execute("COMMIT")  # the thread's BEGIN now gets the lock, too late

    # Reused, that connection would refuse BEGIN ("within a transaction") or keep the
    # lock until its busy timeout; dropped, the next writer simply goes ahead.
    await _add_merchant(uow_factory, "mer_next")
    assert engine.pool.checkedout() == 0
    rows = other_process_lock.execute("SELECT merchant_id FROM merchants ORDER BY 1").fetchall()
    assert rows == [("mer_next",), ("mer_warm",)]


async def test_a_connection_returned_inside_a_transaction_is_rolled_back_by_the_pool(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory, other_process_lock: sqlite3.Connection
) -> None:
    async with engine.connect() as conn:  # someone opens a transaction behind SQLAlchemy
        raw = await conn.get_raw_connection()
        sqlite_of(raw.driver_connection).execute("BEGIN IMMEDIATE")

    other_process_lock.execute("BEGIN IMMEDIATE")  # the lock was given back
    other_process_lock.execute("ROLLBACK")
    await _add_merchant(uow_factory, "mer_1")
    async with uow_factory(read_only=True) as uow:
        assert await uow.merchants.get("mer_1") is not None
