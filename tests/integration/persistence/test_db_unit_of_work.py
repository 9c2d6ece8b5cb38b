"""The unit of work: all or nothing, and `Unavailable` (never a driver error) when the
database cannot be reached."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from db_builders import T0, captured, merchant, only_postgres, only_sqlite, payment
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import engine as sqlalchemy_async_engine

from adapters.persistence import SqlUnitOfWorkFactory, driver
from adapters.persistence.driver import ReadOnlyViolation
from application.errors import Unavailable
from application.ports.storage import PaymentQuery
from domain.ledger import capture_posting

pytestmark = pytest.mark.usefixtures("migrated_url")


class Boom(Exception):
    pass


async def _payment_count(uow_factory: SqlUnitOfWorkFactory) -> int:
    async with uow_factory(read_only=True) as uow:
        return len((await uow.payments.list(PaymentQuery(limit=100))).items)


async def test_committed_work_is_kept(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.merchants.add(merchant())
        await uow.payments.add(payment())
        await uow.commit()

    assert await _payment_count(uow_factory) == 1


async def test_leaving_without_commit_keeps_nothing(uow_factory: SqlUnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.merchants.add(merchant())
        await uow.payments.add(payment())

    async with uow_factory(read_only=True) as uow:
        assert await uow.merchants.get("mer_1") is None


async def test_a_failure_after_the_first_insert_keeps_nothing(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async def fail_after_first_insert() -> None:
        async with uow_factory() as uow:
            await uow.merchants.add(merchant())
            raise Boom

    with pytest.raises(Boom):
        await fail_after_first_insert()

    async with uow_factory(read_only=True) as uow:
        assert await uow.merchants.get("mer_1") is None


async def test_a_failing_statement_rolls_back_the_earlier_ones(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async def add_an_orphan_after_a_merchant() -> None:
        async with uow_factory() as uow:
            await uow.merchants.add(merchant())
            await uow.payments.add(payment("mer_unknown"))
            await uow.commit()

    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        await add_an_orphan_after_a_merchant()

    async with uow_factory(read_only=True) as uow:
        assert await uow.merchants.get("mer_1") is None


async def test_a_reader_does_not_see_uncommitted_work(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as writer:
        await writer.merchants.add(merchant())
        async with uow_factory(read_only=True) as reader:
            assert await reader.merchants.get("mer_1") is None
        await writer.commit()
        async with uow_factory(read_only=True) as reader:
            assert await reader.merchants.get("mer_1") is not None


@only_postgres
async def test_a_read_only_unit_cannot_write_on_postgres(uow_factory: SqlUnitOfWorkFactory) -> None:
    with pytest.raises(Exception, match="read-only transaction"):
        async with uow_factory(read_only=True) as uow:
            await uow.merchants.add(merchant())


async def test_a_lookup_reads_committed_rows_and_refuses_to_write(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.merchants.add(merchant("mer_1"))
        await uow.commit()

    async with uow_factory(read_only=True, snapshot=False) as lookup:
        assert await lookup.merchants.get("mer_1") is not None
        with pytest.raises(ReadOnlyViolation, match="read-only transaction: INSERT"):
            await lookup.merchants.add(merchant("mer_2"))

    async with uow_factory() as writer:  # the guard belongs to lookups only
        await writer.merchants.add(merchant("mer_3"))
        await writer.commit()
    async with uow_factory(read_only=True) as reader:
        assert await reader.merchants.get("mer_2") is None
        assert await reader.merchants.get("mer_3") is not None


def test_a_unit_that_writes_cannot_give_up_its_transaction(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    with pytest.raises(ValueError, match="always has its transaction"):
        uow_factory(snapshot=False)


@only_sqlite
async def test_sqlite_writers_wait_for_each_other_instead_of_failing(
    engine_factory: Callable[..., AsyncEngine],
) -> None:
    first = SqlUnitOfWorkFactory(engine_factory())
    second = SqlUnitOfWorkFactory(engine_factory())
    async with first() as holder:
        await holder.merchants.add(merchant("mer_1"))
        waiter = asyncio.create_task(_add_merchant(second, "mer_2"))
        await asyncio.sleep(0.2)
        assert not waiter.done()  # blocked at BEGIN, not failed
        await holder.commit()
    await waiter

    async with first(read_only=True) as uow:
        assert await uow.merchants.get("mer_2") is not None


async def _add_merchant(uow_factory: SqlUnitOfWorkFactory, merchant_id: str) -> None:
    async with uow_factory() as uow:
        await uow.merchants.add(merchant(merchant_id))
        await uow.commit()


@only_sqlite
async def test_a_writer_that_waits_too_long_is_told_unavailable(
    engine_factory: Callable[..., AsyncEngine],
) -> None:
    holder_uow = SqlUnitOfWorkFactory(engine_factory())
    impatient = SqlUnitOfWorkFactory(engine_factory(busy_timeout_ms=50))
    async with holder_uow():
        with pytest.raises(Unavailable) as raised:
            async with impatient():
                pass
    assert raised.value.code == "unavailable"


@only_sqlite
async def test_writers_in_one_process_take_turns_in_arrival_order(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    await _add_merchant(uow_factory, "mer_1")

    async def record(n: int) -> None:
        async with uow_factory() as uow:
            await uow.ledger.append(
                [capture_posting(captured(payment(payment_no=f"pay_{n:02d}")), T0)])
            await uow.commit()

    await asyncio.gather(*(record(n) for n in range(20)))

    async with engine.connect() as conn:
        result = await conn.execute(
            text("SELECT posting_id FROM ledger_entries WHERE side = 'debit' ORDER BY entry_id")
        )
        assert list(result.scalars()) == [f"capture:pay_{n:02d}" for n in range(20)]


@only_sqlite
async def test_a_writer_queued_in_process_too_long_is_told_unavailable(
    engine_factory: Callable[..., AsyncEngine],
) -> None:
    uow_factory = SqlUnitOfWorkFactory(engine_factory(busy_timeout_ms=50))
    async with uow_factory():
        with pytest.raises(Unavailable):
            await _add_merchant(uow_factory, "mer_late")


@only_postgres
async def test_a_connection_dropped_mid_unit_is_unavailable_and_writes_nothing(
    engine: AsyncEngine, engine_factory: Callable[..., AsyncEngine]
) -> None:
    victim = f"paygate-victim-{uuid.uuid4().hex}"
    uow_factory = SqlUnitOfWorkFactory(
        engine_factory(connect_args={"server_settings": {"application_name": victim}})
    )

    async def commit_after_losing_the_connection() -> None:
        async with uow_factory() as uow:
            await uow.merchants.add(merchant())
            async with engine.connect() as admin:
                await admin.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = :victim"
                    ),
                    {"victim": victim},
                )
            await uow.commit()

    with pytest.raises(Unavailable):
        await commit_after_losing_the_connection()

    async with uow_factory(read_only=True) as uow:
        assert await uow.merchants.get("mer_1") is None


@only_postgres
@pytest.mark.parametrize("read_only", [False, True])
async def test_connections_the_server_closed_while_pooled_are_replaced(
    engine: AsyncEngine, engine_factory: Callable[..., AsyncEngine], read_only: bool
) -> None:
    # the server restarted, or dropped idle connections: the next units still work
    victim = f"paygate-victim-{uuid.uuid4().hex}"
    pooled = engine_factory(connect_args={"server_settings": {"application_name": victim}})
    uow_factory = SqlUnitOfWorkFactory(pooled)
    await _add_merchant(uow_factory, "mer_before")
    held = [uow_factory(read_only=True) for _ in range(3)]  # three idle in the pool
    for unit in held:
        await unit.__aenter__()
    for unit in held:
        await unit.__aexit__(None, None, None)
    async with engine.connect() as admin:
        closed = await admin.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = :victim"
            ),
            {"victim": victim},
        )
        assert closed.scalar_one() == 3
    await asyncio.sleep(0.2)  # the client reads each connection's end

    for n in range(4):
        async with uow_factory(read_only=read_only) as uow:
            assert await uow.merchants.get("mer_before") is not None
            if not read_only:
                await uow.merchants.add(merchant(f"mer_after_{n}"))
                await uow.commit()


async def test_committing_a_unit_that_is_not_open_is_a_bug(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    with pytest.raises(RuntimeError, match="not open"):
        await uow_factory().commit()


async def test_a_rollback_that_fails_drops_the_connection_and_keeps_nothing(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    class LostTransaction:
        async def rollback(self) -> None:
            raise OSError("the connection went away during ROLLBACK")

    async def fail_and_lose_the_rollback() -> None:
        async with uow_factory() as uow:
            await uow.merchants.add(merchant())
            uow._transaction = LostTransaction()  # the real one is never ended by us
            raise Boom

    with pytest.raises(Boom):  # the unit's own error, not the rollback's
        await fail_and_lose_the_rollback()

    assert engine.pool.checkedout() == 0  # invalidated, not handed back as it was
    async with uow_factory(read_only=True) as uow:
        assert await uow.merchants.get("mer_1") is None


class GreenletTrips:
    """Counts SQLAlchemy's trips into its greenlet from the async engine (each one costs
    some 9 µs of CPU; a payment opens two units)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = sqlalchemy_async_engine.greenlet_spawn

        async def counting(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await real(fn, *args, **kwargs)

        monkeypatch.setattr(sqlalchemy_async_engine, "greenlet_spawn", counting)


async def test_a_unit_takes_its_connection_in_one_trip_and_hands_it_back_without_one(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _add_merchant(uow_factory, "mer_warm")  # the pool holds a connection now
    trips = GreenletTrips(monkeypatch)

    async with uow_factory() as uow:
        await uow.merchants.add(merchant())
        await uow.commit()

    assert trips.count == 1  # taking it: a new connection would need I/O
    assert engine.pool.checkedout() == 0
    async with uow_factory(read_only=True) as uow:
        assert await uow.merchants.get("mer_1") is not None


@only_postgres
async def test_a_connection_beyond_the_pool_size_is_closed_when_its_unit_ends(
    engine: AsyncEngine, engine_factory: Callable[..., AsyncEngine]
) -> None:
    # the pool would close it: the unit detaches it and closes it with the driver's own call
    name = f"paygate-overflow-{uuid.uuid4().hex}"
    overflowing = engine_factory(
        pool_size=1, max_overflow=1, connect_args={"server_settings": {"application_name": name}}
    )
    uow_factory = SqlUnitOfWorkFactory(overflowing)
    both_open = asyncio.Barrier(2)

    async def hold_a_connection(merchant_id: str) -> None:
        async with uow_factory() as uow:
            await both_open.wait()
            await uow.merchants.add(merchant(merchant_id))
            await uow.commit()

    await asyncio.gather(hold_a_connection("mer_a"), hold_a_connection("mer_b"))

    assert overflowing.pool.checkedout() == 0
    async with engine.connect() as admin:
        backends = await admin.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": name},
        )
        assert backends.scalar_one() == 1  # the pool's one connection, kept
    async with uow_factory(read_only=True) as uow:
        assert await uow.merchants.get("mer_a") is not None
        assert await uow.merchants.get("mer_b") is not None


async def test_a_unit_that_ended_refuses_its_repositories(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    # its connection is back in the pool, perhaps in another unit's hands by now
    unit = uow_factory()
    with pytest.raises(RuntimeError, match="not open"):
        _ = unit.merchants
    async with unit as uow:
        await uow.merchants.add(merchant())
        await uow.commit()

    with pytest.raises(RuntimeError, match="not open"):
        await uow.merchants.get("mer_1")


async def _three_connections_handed_back_then_one_unit(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> tuple[list[Any], list[Any]]:
    """The connections three lookups handed back, in order, and the one the next unit took."""
    handed_back: list[Any] = []
    taken: list[Any] = []
    event.listen(engine.sync_engine, "checkin", lambda conn, _record: handed_back.append(conn))
    event.listen(engine.sync_engine, "checkout", lambda conn, _rec, _proxy: taken.append(conn))
    all_open = asyncio.Barrier(3)

    async def look_up_while_the_others_do() -> None:
        async with uow_factory(read_only=True) as uow:
            await all_open.wait()
            await uow.merchants.get("mer_1")

    await asyncio.gather(*(look_up_while_the_others_do() for _ in range(3)))
    returned = list(handed_back)
    assert len(set(map(id, returned))) == 3
    taken.clear()
    async with uow_factory() as uow:
        await uow.merchants.add(merchant())
        await uow.commit()
    return returned, taken


@only_sqlite
async def test_on_sqlite_the_next_unit_takes_the_connection_handed_back_last(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    # Its caches are warm: SQLite empties a connection's page cache whenever another
    # connection writes, and writers take turns, so the pool's oldest connection is cold.
    returned, taken = await _three_connections_handed_back_then_one_unit(engine, uow_factory)
    assert taken == [returned[-1]]


@only_postgres
async def test_on_postgres_the_next_unit_takes_the_connection_idle_longest(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    # Every pooled connection keeps being used, so none sits idle long enough for a
    # firewall or proxy to drop it unnoticed (LIFO measured no faster on PostgreSQL).
    returned, taken = await _three_connections_handed_back_then_one_unit(engine, uow_factory)
    assert taken == [returned[0]]


async def _verbs_of_a_single_statement_unit(
    uow_factory: SqlUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch, merchant_id: str,
) -> list[str]:
    sent: list[str] = []
    control = driver.control

    async def counted_control(conn: Any, call: Any, verb: str) -> Any:
        sent.append(verb)
        return await control(conn, call, verb)

    monkeypatch.setattr(driver, "control", counted_control)
    async with uow_factory(single_statement=True) as uow:
        await uow.merchants.add(merchant(merchant_id))
        await uow.commit()
    monkeypatch.undo()
    return sent


@only_postgres
async def test_a_single_statement_unit_on_postgres_commits_its_statement_alone(
    uow_factory: SqlUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One round trip instead of BEGIN, the statement and COMMIT (docs/adr/0033)."""
    assert await _verbs_of_a_single_statement_unit(uow_factory, monkeypatch, "mer_1") == []
    async with uow_factory(read_only=True) as reader:
        assert await reader.merchants.get("mer_1") is not None


@only_sqlite
async def test_a_single_statement_unit_on_sqlite_keeps_its_transaction(
    uow_factory: SqlUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its COMMIT (and fsync) runs on aiosqlite's thread, not on the event loop's, as an
    autocommitted statement would."""
    sent = await _verbs_of_a_single_statement_unit(uow_factory, monkeypatch, "mer_1")
    assert sent == ["BEGIN", "COMMIT"]
    async with uow_factory(read_only=True) as reader:
        assert await reader.merchants.get("mer_1") is not None


async def test_a_single_statement_unit_refuses_a_second_write(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    """Its first write may have committed on its own: a second would leave half of the
    work written, so it is refused before it is sent, on both databases."""
    async with uow_factory(single_statement=True) as uow:
        await uow.merchants.add(merchant("mer_1"))
        with pytest.raises(driver.SecondWriteRefused, match="one statement that writes"):
            await uow.merchants.add(merchant("mer_2"))
        await uow.commit()
    async with uow_factory(read_only=True) as reader:
        assert await reader.merchants.get("mer_2") is None


async def test_a_single_statement_unit_may_read_after_its_write(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    async with uow_factory(single_statement=True) as uow:
        await uow.merchants.add(merchant("mer_1"))
        assert await uow.merchants.get("mer_1") is not None
        await uow.commit()


def test_a_read_only_unit_is_not_a_single_statement_write(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    with pytest.raises(ValueError, match="writes one statement"):
        uow_factory(read_only=True, single_statement=True)
