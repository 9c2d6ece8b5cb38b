"""`SqlUnitOfWork`: one connection and one transaction, shared by every repository.

Leaving the block without `commit()` rolls back, so a failure anywhere leaves nothing
written. A write unit on SQLite first queues at the process's `WriteGate`, then takes
the database's write lock at BEGIN (docs/adr/0005); a read-only unit takes a snapshot
and, on PostgreSQL, runs as a READ ONLY transaction.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence.engine import BEGIN_MODE, DEFERRED, IMMEDIATE
from adapters.persistence.errors import translated
from adapters.persistence.gate import WriteGate, gate_of
from adapters.persistence.ledger import SqlLedgerRepository
from adapters.persistence.merchants import SqlMerchantRepository
from adapters.persistence.orders import SqlOrderRepository
from adapters.persistence.payments import SqlPaymentRepository
from adapters.persistence.refunds import SqlRefundRepository
from adapters.persistence.settlements import SqlSettlementRepository
from adapters.persistence.webhooks import SqlWebhookRepository


class SqlUnitOfWork:
    payments: SqlPaymentRepository
    refunds: SqlRefundRepository
    ledger: SqlLedgerRepository
    settlements: SqlSettlementRepository
    merchants: SqlMerchantRepository
    webhooks: SqlWebhookRepository
    orders: SqlOrderRepository  # the local order book's table, for `LocalOrderBook`

    def __init__(self, engine: AsyncEngine, gate: WriteGate | None = None) -> None:
        self._engine = engine
        self._gate = gate
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        if self._gate is not None:
            await self._gate.__aenter__()
        try:
            self._conn = await self._begin()
        except BaseException:
            await self._leave_gate()
            raise
        conn = self._conn
        self.payments = SqlPaymentRepository(conn)
        self.refunds = SqlRefundRepository(conn)
        self.ledger = SqlLedgerRepository(conn)
        self.settlements = SqlSettlementRepository(conn)
        self.merchants = SqlMerchantRepository(conn)
        self.webhooks = SqlWebhookRepository(conn)
        self.orders = SqlOrderRepository(conn)
        return self

    async def _begin(self) -> AsyncConnection:
        conn = self._engine.connect()
        try:
            with translated("opening a unit of work"):
                await conn.start()
                await conn.begin()
        except BaseException:
            if conn.sync_connection is not None:  # connected, but BEGIN failed
                await conn.close()
            raise
        return conn

    async def _leave_gate(self) -> None:
        if self._gate is not None:
            await self._gate.__aexit__(None, None, None)

    async def commit(self) -> None:
        with translated("committing"):
            await self._connection.commit()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._connection, None
        try:
            if conn.in_transaction():
                await conn.rollback()
        except Exception:
            # Nothing was committed, so a failed rollback loses nothing: the server drops
            # the transaction with the connection, which must not go back to the pool.
            await conn.invalidate()
        finally:
            try:
                await conn.close()
            finally:
                await self._leave_gate()

    @property
    def _connection(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open: use `async with uow:`")
        return self._conn


class SqlUnitOfWorkFactory:
    """Implements `UnitOfWorkFactory`: a fresh `SqlUnitOfWork` per call, on one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._write = engine.execution_options(**{BEGIN_MODE: IMMEDIATE})
        self._read = engine.execution_options(**{BEGIN_MODE: DEFERRED}, postgresql_readonly=True)
        self._gate = gate_of(engine)

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        if read_only:
            return SqlUnitOfWork(self._read)
        return SqlUnitOfWork(self._write, self._gate)
