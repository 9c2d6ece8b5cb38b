"""`SqlUnitOfWork`: one connection and one transaction, shared by every repository.

Leaving the block without `commit()` rolls back, so a failure anywhere leaves nothing
written. The unit borrows a pooled connection and works on its driver connection
(asyncpg's, or the `sqlite3` connection paygate opened under aiosqlite's) directly: its
transaction and every statement go to the driver without SQLAlchemy's execution layer
(adapters/persistence/driver.py, ADR 0008).

A write unit on SQLite first queues at the process's `WriteGate`, then takes the
database's write lock at BEGIN (docs/adr/0005); a read-only unit takes a snapshot and,
on PostgreSQL, runs as a READ ONLY transaction. A read-only unit without a snapshot (one
lookup) runs its statement with no BEGIN or ROLLBACK round trips. Read-only units refuse
any statement that would write before it is sent. A single-statement unit writes one
statement, which on PostgreSQL commits on its own, with no BEGIN or COMMIT round trips;
it refuses a second write (docs/adr/0033).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool, PoolProxiedConnection, QueuePool, StaticPool

from adapters.persistence import driver
from adapters.persistence.deliveries import SqlDeliveryRepository
from adapters.persistence.endpoints import SqlEndpointRepository
from adapters.persistence.engine import transaction_setup
from adapters.persistence.errors import translated
from adapters.persistence.events import SqlEventRepository
from adapters.persistence.gate import FifoGate, connection_gate_of, gate_of
from adapters.persistence.ledger import SqlLedgerRepository
from adapters.persistence.merchants import SqlMerchantRepository
from adapters.persistence.operators import SqlAuditRepository, SqlOperatorRepository
from adapters.persistence.orders import SqlOrderRepository
from adapters.persistence.outbox import SqlOutboxRepository
from adapters.persistence.payments import SqlPaymentRepository
from adapters.persistence.refunds import SqlRefundRepository
from adapters.persistence.routing import SqlAttemptRepository, SqlRoutingRepository
from adapters.persistence.sandbox_charges import SqlSandboxChargeRepository
from adapters.persistence.settlements import SqlSettlementRepository
from adapters.persistence.signatures import SqlUsedSignatureRepository
from adapters.persistence.sql import Repository


@dataclass(frozen=True, slots=True)
class Mode:
    transaction: bool  # False: each statement commits on its own (a lookup, a single write)
    read_only: bool
    single_statement: bool = False  # one statement that writes, and no more


R = TypeVar("R", bound=Repository)
_NOT_OPEN = "the unit of work is not open: use `async with uow:`"


class _Repository(Generic[R]):
    """A repository of the open unit, made the first time the unit's work asks for it
    (a payment's unit uses two or three of seven) and forgotten when the unit ends."""

    def __init__(self, kind: type[R]) -> None:
        self._kind = kind
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, unit: None, owner: type) -> Self: ...
    @overload
    def __get__(self, unit: SqlUnitOfWork, owner: type) -> R: ...

    def __get__(self, unit: SqlUnitOfWork | None, owner: type) -> R | Self:
        if unit is None:
            return self
        repository = unit.repository(self._kind)
        unit.__dict__[self._name] = repository  # found there from now on, until the end
        return repository


class SqlUnitOfWork:
    payments = _Repository(SqlPaymentRepository)
    refunds = _Repository(SqlRefundRepository)
    ledger = _Repository(SqlLedgerRepository)
    settlements = _Repository(SqlSettlementRepository)
    merchants = _Repository(SqlMerchantRepository)
    operators = _Repository(SqlOperatorRepository)
    audit = _Repository(SqlAuditRepository)
    outbox = _Repository(SqlOutboxRepository)
    events = _Repository(SqlEventRepository)
    endpoints = _Repository(SqlEndpointRepository)
    deliveries = _Repository(SqlDeliveryRepository)
    orders = _Repository(SqlOrderRepository)  # the local order book's table
    used_signatures = _Repository(SqlUsedSignatureRepository)  # signed requests, once each
    sandbox_charges = _Repository(SqlSandboxChargeRepository)  # the sandbox acquirer's own
    routing = _Repository(SqlRoutingRepository)  # merchants' routing rules
    attempts = _Repository(SqlAttemptRepository)  # routed payments' attempts

    def __init__(
        self, engine: AsyncEngine, gates: Sequence[FifoGate] = (), mode: Mode = Mode(True, False)
    ) -> None:
        """`gates` are passed in order before a connection is taken (the factory's)."""
        self._engine, self._gates, self._mode = engine, gates, mode
        self._setup = transaction_setup(engine)  # None, unless behind a transaction pooler
        self._entered: list[FifoGate] = []
        self._pooled: PoolProxiedConnection | None = None
        self._driver: Any = None  # asyncpg's or aiosqlite's connection
        self._statements_on: Any = None  # asyncpg's, or the sqlite3 one under aiosqlite's
        self._transaction: Any = None  # open: neither committed nor rolled back yet
        self._started: Any = None  # the unit's transaction, open or not, until it ends
        # what its repositories may write: nothing, anything, or one statement in all
        self._writable: bool | driver.OneWrite = (
            driver.OneWrite() if mode.single_statement else not mode.read_only)

    def repository(self, kind: type[R]) -> R:
        """A repository of `kind` on this open unit's connection (what its attributes
        `payments`, `refunds`... make the first time they are read)."""
        if self._pooled is None:
            raise RuntimeError(_NOT_OPEN)
        return kind(None, self._engine.dialect, self._statements_on, self._writable)

    async def __aenter__(self) -> Self:
        try:
            for gate in self._gates:  # the writers' queue first, then a connection's turn
                await gate.__aenter__()
                self._entered.append(gate)
            self._pooled = await self._begin()
        except BaseException:
            await self._leave_gates()
            raise
        return self

    async def _begin(self) -> PoolProxiedConnection:
        """Check a connection out of the pool and open the transaction on its driver
        connection; SQLAlchemy's own transaction stays unopened."""
        with translated("opening a unit of work"):
            pooled = await self._live_connection()
        try:
            with translated("opening a unit of work"):
                if self._mode.transaction:
                    transaction = driver.transaction_on(
                        self._driver, self._mode.read_only, self._statements_on, self._setup
                    )
                    self._started = transaction
                    await driver.control(self._driver, transaction.start, "BEGIN")
                    self._transaction = transaction
        except BaseException:
            await self._hand_back(pooled, driver.is_reusable(self._driver, self._started))
            self._driver = self._started = self._statements_on = None
            raise
        return pooled

    async def _live_connection(self) -> PoolProxiedConnection:
        """A pooled connection whose server end is still there.

        The server may have closed idle connections while they sat in the pool (it
        restarted, or an idle timeout or a proxy dropped them); the driver noticed, so
        telling costs no round trip. Each one found closed is dropped and the next tried,
        up to a new connection, which fails as `Unavailable` if the server is really gone.
        """
        dropped = 0
        while True:
            try:
                pooled = await self._engine.raw_connection()
            except driver.DRIVER_ERRORS as error:  # the pool does not wrap connect errors
                raise driver.wrapped(error, None, None) from error
            except self._engine.dialect.loaded_dbapi.Error as error:
                # SQLAlchemy's asyncpg adapter raises its own class for a connection the
                # server (or a pooler, refusing a startup parameter) turned down
                cause = error.__cause__
                raise driver.wrapped(
                    cause if isinstance(cause, driver.DRIVER_ERRORS) else error, None, None
                ) from error
            self._driver = pooled.driver_connection
            if not driver.is_closed(self._driver) or dropped == _pool_size(self._engine):
                self._statements_on = driver.statements_on(pooled)
                return pooled
            await self._hand_back(pooled, reusable=False)
            dropped += 1

    async def _hand_back(self, pooled: PoolProxiedConnection, reusable: bool) -> None:
        """Return the connection to the pool, or close it if the pool will not keep it.

        Taking a connection may need I/O (a new connection), so SQLAlchemy's async engine
        runs it in its greenlet. Putting an idle connection back into a pool that keeps it
        needs none, and runs here: that trip costs ~9 µs of CPU, twice per payment. A
        connection that may not be used again, or that the pool would close (beyond its
        size, or a pool that keeps none), is detached from the pool, which frees its
        place without any I/O, and closed here with the driver's own call.
        """
        if reusable and _keeps(self._engine.pool) and not driver.in_transaction(
            self._statements_on
        ):
            pooled.close()
            return
        on_driver = pooled.driver_connection
        pooled.detach()
        await driver.close(on_driver)

    async def _leave_gates(self) -> None:
        while self._entered:
            await self._entered.pop().__aexit__(None, None, None)

    async def commit(self) -> None:
        if self._pooled is None:
            raise RuntimeError(_NOT_OPEN)
        if self._transaction is not None:
            transaction, self._transaction = self._transaction, None
            with translated("committing"):
                await driver.control(self._driver, transaction.commit, "COMMIT")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pooled is None:
            raise RuntimeError(_NOT_OPEN)
        pooled, self._pooled = self._pooled, None
        for name in _REPOSITORIES:  # made on this connection, which goes back now
            self.__dict__.pop(name, None)
        transaction, self._transaction = self._transaction, None
        on_driver, self._driver = self._driver, None
        started, self._started = self._started, None
        # lost mid-unit, or its COMMIT may still run in aiosqlite's thread: the pool must
        # not hand it out again
        reusable = driver.is_reusable(on_driver, started)
        try:
            if reusable and transaction is not None:
                await driver.control(on_driver, transaction.rollback, "ROLLBACK")
        except Exception:
            # Nothing was committed, so a failed rollback loses nothing: the server drops
            # the transaction with the connection, which must not go back to the pool.
            reusable = False
        finally:
            try:
                await self._hand_back(pooled, reusable)
            finally:
                self._statements_on = None
                await self._leave_gates()


_REPOSITORIES = tuple(
    name for name, kind in vars(SqlUnitOfWork).items() if isinstance(kind, _Repository)
)


class SqlUnitOfWorkFactory:
    """Implements `UnitOfWorkFactory`: a fresh `SqlUnitOfWork` per call, on one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        turns = connection_gate_of(engine)
        # writers queue for SQLite's write lock first, then everybody for a connection
        self._writer_gates = tuple(g for g in (gate_of(engine), turns) if g is not None)
        self._reader_gates = (turns,) if turns is not None else ()
        # behind a transaction pooler a lookup has its transaction too (engine's module doc)
        self._always_transaction = transaction_setup(engine) is not None
        self._sqlite = engine.dialect.name == "sqlite"

    def __call__(
        self, *, read_only: bool = False, snapshot: bool = True, single_statement: bool = False
    ) -> SqlUnitOfWork:
        """A unit that writes (the default) or reads (`read_only`, with a snapshot or, for
        one lookup, without: `snapshot=False`); `single_statement` writes one statement,
        committing on its own where that costs no more than its transaction: PostgreSQL,
        not behind a transaction pooler. SQLite keeps the transaction, so that the commit
        and its fsync run on aiosqlite's thread, not on the event loop's."""
        if single_statement:
            if read_only:
                raise ValueError("a single-statement unit writes one statement")
            return SqlUnitOfWork(self._engine, self._writer_gates, Mode(
                self._always_transaction or self._sqlite, False, single_statement=True))
        if not (read_only or snapshot):
            raise ValueError("a unit of work that writes always has its transaction")
        gates = self._reader_gates if read_only else self._writer_gates
        return SqlUnitOfWork(
            self._engine, gates, Mode(snapshot or self._always_transaction, read_only)
        )


def _pool_size(engine: AsyncEngine) -> int:
    """How many idle connections the engine's pool may hold: each may have been closed."""
    size = getattr(engine.pool, "size", None)
    return int(size()) if callable(size) else 1


def _keeps(pool: Pool) -> bool:
    """A connection handed back now stays open in the pool: there is room in its queue,
    or it is the one connection a `StaticPool` always keeps (an in-memory database)."""
    if isinstance(pool, StaticPool):
        return True
    return isinstance(pool, QueuePool) and pool.checkedin() < pool.size()
