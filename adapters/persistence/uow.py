"""`SqlUnitOfWork`: one connection and one transaction, shared by every repository.

Leaving the block without `commit()` rolls back, so a failure anywhere leaves nothing
written. The unit borrows a pooled connection and works on its driver connection
(asyncpg's, or aiosqlite's) directly: its transaction and every statement go to the
driver without SQLAlchemy's execution layer (adapters/persistence/driver.py, ADR 0008).

A write unit on SQLite first queues at the process's `WriteGate`, then takes the
database's write lock at BEGIN (docs/adr/0005); a read-only unit takes a snapshot and,
on PostgreSQL, runs as a READ ONLY transaction. A read-only unit without a snapshot (one
lookup) runs its statement with no BEGIN or ROLLBACK round trips. Read-only units refuse
any statement that would write before it is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence import driver
from adapters.persistence.errors import translated
from adapters.persistence.gate import FifoGate, connection_gate_of, gate_of
from adapters.persistence.ledger import SqlLedgerRepository
from adapters.persistence.merchants import SqlMerchantRepository
from adapters.persistence.orders import SqlOrderRepository
from adapters.persistence.payments import SqlPaymentRepository
from adapters.persistence.refunds import SqlRefundRepository
from adapters.persistence.settlements import SqlSettlementRepository
from adapters.persistence.webhooks import SqlWebhookRepository


@dataclass(frozen=True, slots=True)
class Mode:
    transaction: bool  # False: a lookup, its statement committing on its own
    read_only: bool


class SqlUnitOfWork:
    payments: SqlPaymentRepository
    refunds: SqlRefundRepository
    ledger: SqlLedgerRepository
    settlements: SqlSettlementRepository
    merchants: SqlMerchantRepository
    webhooks: SqlWebhookRepository
    orders: SqlOrderRepository  # the local order book's table, for `LocalOrderBook`

    def __init__(
        self, engine: AsyncEngine, gates: Sequence[FifoGate] = (), mode: Mode = Mode(True, False)
    ) -> None:
        """`gates` are passed in order before a connection is taken (the factory's)."""
        self._engine, self._gates, self._mode = engine, gates, mode
        self._entered: list[FifoGate] = []
        self._conn: AsyncConnection | None = None
        self._driver: Any = None  # asyncpg's or aiosqlite's connection
        self._transaction: Any = None  # open: neither committed nor rolled back yet
        self._started: Any = None  # the unit's transaction, open or not, until it ends

    async def __aenter__(self) -> Self:
        try:
            for gate in self._gates:  # the writers' queue first, then a connection's turn
                await gate.__aenter__()
                self._entered.append(gate)
            self._conn = await self._begin()
        except BaseException:
            await self._leave_gates()
            raise
        conn, on = self._conn, (self._driver, not self._mode.read_only)
        self.payments = SqlPaymentRepository(conn, *on)
        self.refunds = SqlRefundRepository(conn, *on)
        self.ledger = SqlLedgerRepository(conn, *on)
        self.settlements = SqlSettlementRepository(conn, *on)
        self.merchants = SqlMerchantRepository(conn, *on)
        self.webhooks = SqlWebhookRepository(conn, *on)
        self.orders = SqlOrderRepository(conn, *on)
        return self

    async def _begin(self) -> AsyncConnection:
        """Check a connection out of the pool and open the transaction on its driver
        connection; SQLAlchemy's own transaction stays unopened."""
        with translated("opening a unit of work"):
            conn = await self._live_connection()
        try:
            with translated("opening a unit of work"):
                if self._mode.transaction:
                    transaction = driver.transaction_on(self._driver, self._mode.read_only)
                    self._started = transaction
                    await driver.control(transaction.start, "BEGIN")
                    self._transaction = transaction
        except BaseException:
            if conn.sync_connection is not None:  # connected, but BEGIN failed
                if not driver.is_reusable(self._driver, self._started):
                    await conn.invalidate()
                await conn.close()
            self._driver = self._started = None
            raise
        return conn

    async def _live_connection(self) -> AsyncConnection:
        """A pooled connection whose server end is still there.

        The server may have closed idle connections while they sat in the pool (it
        restarted, or an idle timeout or a proxy dropped them); the driver noticed, so
        telling costs no round trip. Each one found closed is dropped and the next tried,
        up to a new connection, which fails as `Unavailable` if the server is really gone.
        """
        dropped = 0
        while True:
            conn = self._engine.connect()
            await conn.start()
            self._driver = _driver_connection(conn)
            if not driver.is_closed(self._driver) or dropped == _pool_size(self._engine):
                return conn
            await conn.invalidate()
            await conn.close()
            dropped += 1

    async def _leave_gates(self) -> None:
        while self._entered:
            await self._entered.pop().__aexit__(None, None, None)

    async def commit(self) -> None:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open: use `async with uow:`")
        if self._transaction is not None:
            transaction, self._transaction = self._transaction, None
            with translated("committing"):
                await driver.control(transaction.commit, "COMMIT")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._connection, None
        transaction, self._transaction = self._transaction, None
        on_driver, self._driver = self._driver, None
        started, self._started = self._started, None
        try:
            if not driver.is_reusable(on_driver, started):
                # lost mid-unit, or its COMMIT may still run in aiosqlite's thread: the
                # pool must not hand it out again
                await conn.invalidate()
            elif transaction is not None:
                await transaction.rollback()
        except Exception:
            # Nothing was committed, so a failed rollback loses nothing: the server drops
            # the transaction with the connection, which must not go back to the pool.
            await conn.invalidate()
        finally:
            try:
                await conn.close()
            finally:
                await self._leave_gates()

    @property
    def _connection(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open: use `async with uow:`")
        return self._conn


class SqlUnitOfWorkFactory:
    """Implements `UnitOfWorkFactory`: a fresh `SqlUnitOfWork` per call, on one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        turns = connection_gate_of(engine)
        # writers queue for SQLite's write lock first, then everybody for a connection
        self._writer_gates = tuple(g for g in (gate_of(engine), turns) if g is not None)
        self._reader_gates = (turns,) if turns is not None else ()

    def __call__(self, *, read_only: bool = False, snapshot: bool = True) -> SqlUnitOfWork:
        if not (read_only or snapshot):
            raise ValueError("a unit of work that writes always has its transaction")
        gates = self._reader_gates if read_only else self._writer_gates
        return SqlUnitOfWork(self._engine, gates, Mode(snapshot, read_only))


def _driver_connection(conn: AsyncConnection) -> Any:
    """The driver connection of a connection just checked out of the pool.

    `AsyncConnection.get_raw_connection()` reads it in a greenlet, in case reading needs
    I/O (a connection invalidated since checkout reconnects); one just checked out has it
    in hand, so reading it here saves that greenlet's trip, a third of a unit's.
    """
    sync = conn.sync_connection
    if sync is None:
        raise RuntimeError("the connection is not started")
    return sync.connection.driver_connection


def _pool_size(engine: AsyncEngine) -> int:
    """How many idle connections the engine's pool may hold: each may have been closed."""
    size = getattr(engine.pool, "size", None)
    return int(size()) if callable(size) else 1
