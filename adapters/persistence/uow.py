"""`SqlUnitOfWork`: one connection and one transaction, shared by every repository.

Leaving the block without `commit()` rolls back, so a failure anywhere leaves nothing
written. A write unit on SQLite first queues at the process's `WriteGate`, then takes
the database's write lock at BEGIN (docs/adr/0005); a read-only unit takes a snapshot
and, on PostgreSQL, runs as a READ ONLY transaction. A read-only unit without a snapshot
(one lookup) runs its statements in autocommit, with no BEGIN or ROLLBACK round trips,
and refuses any statement that would write.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Self

import asyncpg
from asyncpg.transaction import Transaction
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence import driver
from adapters.persistence.engine import BEGIN_MODE, DEFERRED, IMMEDIATE, read_only_autocommit
from adapters.persistence.errors import translated
from adapters.persistence.gate import ConnectionGate, WriteGate, connection_gate_of, gate_of
from adapters.persistence.ledger import SqlLedgerRepository
from adapters.persistence.merchants import SqlMerchantRepository
from adapters.persistence.orders import SqlOrderRepository
from adapters.persistence.payments import SqlPaymentRepository
from adapters.persistence.refunds import SqlRefundRepository
from adapters.persistence.settlements import SqlSettlementRepository
from adapters.persistence.webhooks import SqlWebhookRepository


@dataclass(frozen=True, slots=True)
class OnDriver:
    """How a unit of work runs on the asyncpg connection itself (PostgreSQL)."""

    transaction: bool  # False: a lookup, each statement committing on its own
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
        self, engine: AsyncEngine, gate: WriteGate | None = None, on_driver: OnDriver | None = None
    ) -> None:
        self._engine, self._on_driver = engine, on_driver
        self._gates = [g for g in (gate, connection_gate_of(engine)) if g is not None]
        self._entered: list[WriteGate | ConnectionGate] = []
        self._conn: AsyncConnection | None = None
        self._driver: asyncpg.Connection | None = None
        self._transaction: Transaction | None = None

    async def __aenter__(self) -> Self:
        try:
            for gate in self._gates:  # the writers' queue first, then a connection's turn
                await gate.__aenter__()
                self._entered.append(gate)
            self._conn = await self._begin()
        except BaseException:
            await self._leave_gates()
            raise
        writable = self._on_driver is None or not self._on_driver.read_only
        conn, on = self._conn, (self._driver, writable)
        self.payments = SqlPaymentRepository(conn, *on)
        self.refunds = SqlRefundRepository(conn, *on)
        self.ledger = SqlLedgerRepository(conn, *on)
        self.settlements = SqlSettlementRepository(conn, *on)
        self.merchants = SqlMerchantRepository(conn, *on)
        self.webhooks = SqlWebhookRepository(conn, *on)
        self.orders = SqlOrderRepository(conn, *on)
        return self

    async def _begin(self) -> AsyncConnection:
        conn = self._engine.connect()
        try:
            with translated("opening a unit of work"):
                await conn.start()
                if self._on_driver is None:
                    await conn.begin()
                else:
                    await self._begin_on_driver(conn, self._on_driver)
        except BaseException:
            if conn.sync_connection is not None:  # connected, but BEGIN failed
                await conn.close()
            raise
        return conn

    async def _begin_on_driver(self, conn: AsyncConnection, on: OnDriver) -> None:
        """Borrow the pooled connection's asyncpg connection and open the transaction on it;
        SQLAlchemy's own transaction stays unopened, so returning the connection to the
        pool costs no round trip."""
        raw = await conn.get_raw_connection()
        self._driver = raw.driver_connection
        if on.transaction:
            assert self._driver is not None
            transaction = self._driver.transaction(readonly=on.read_only)
            await driver.control(transaction.start, "BEGIN")
            self._transaction = transaction

    async def _leave_gates(self) -> None:
        while self._entered:
            await self._entered.pop().__aexit__(None, None, None)

    async def commit(self) -> None:
        conn = self._connection
        with translated("committing"):
            if self._on_driver is None:
                await conn.commit()
            elif self._transaction is not None:
                transaction, self._transaction = self._transaction, None
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
        try:
            if on_driver is not None and on_driver.is_closed():
                await conn.invalidate()  # lost mid-unit: the pool must not hand it out again
            elif transaction is not None:
                await transaction.rollback()
            elif conn.in_transaction():
                await conn.rollback()
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
    """Implements `UnitOfWorkFactory`: a fresh `SqlUnitOfWork` per call, on one engine.

    On PostgreSQL (asyncpg) the units run on the driver connection (`OnDriver`); on
    SQLite they run through SQLAlchemy's engine, with paygate's BEGIN modes.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._on_driver = engine.dialect.driver == "asyncpg"
        self._write = engine.execution_options(**{BEGIN_MODE: IMMEDIATE})
        self._read = engine.execution_options(**{BEGIN_MODE: DEFERRED}, postgresql_readonly=True)
        self._lookup = read_only_autocommit(engine)
        self._gate = gate_of(engine)

    def __call__(self, *, read_only: bool = False, snapshot: bool = True) -> SqlUnitOfWork:
        if not (read_only or snapshot):
            raise ValueError("a unit of work that writes always has its transaction")
        if self._on_driver:
            return SqlUnitOfWork(self._engine, on_driver=OnDriver(snapshot, read_only))
        if not read_only:
            return SqlUnitOfWork(self._write, self._gate)
        return SqlUnitOfWork(self._read if snapshot else self._lookup)
