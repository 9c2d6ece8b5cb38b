"""`SqlUnitOfWork`: one connection and one transaction, shared by every repository.

Leaving the block without `commit()` rolls back, so a failure anywhere leaves nothing
written. A write unit on SQLite first queues at the process's `WriteGate`, then takes
the database's write lock at BEGIN (docs/adr/0005); a read-only unit takes a snapshot
and, on PostgreSQL, runs as a READ ONLY transaction. A read-only unit without a snapshot
(one lookup) runs its statements in autocommit, with no BEGIN or ROLLBACK round trips,
and refuses any statement that would write.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
        self._gates = [g for g in (gate, connection_gate_of(engine)) if g is not None]
        self._entered: list[WriteGate | ConnectionGate] = []
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        try:
            for gate in self._gates:  # the writers' queue first, then a connection's turn
                await gate.__aenter__()
                self._entered.append(gate)
            self._conn = await self._begin()
        except BaseException:
            await self._leave_gates()
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

    async def _leave_gates(self) -> None:
        while self._entered:
            await self._entered.pop().__aexit__(None, None, None)

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
                await self._leave_gates()

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
        self._lookup = read_only_autocommit(engine)
        self._gate = gate_of(engine)

    def __call__(self, *, read_only: bool = False, snapshot: bool = True) -> SqlUnitOfWork:
        if not read_only:
            if not snapshot:
                raise ValueError("a unit of work that writes always has its transaction")
            return SqlUnitOfWork(self._write, self._gate)
        return SqlUnitOfWork(self._read if snapshot else self._lookup)
