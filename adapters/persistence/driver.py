"""paygate's Core statements, executed on the driver connection itself.

SQLAlchemy builds and compiles every statement; what it costs at run time is the
execution layer around the driver: per statement a greenlet hop, execution-context and
result objects and events (and on SQLite three or four hops to aiosqlite's thread:
cursor, execute, fetch, close), per unit of work the transaction bookkeeping. Measured on
a unit of work reading one row on PostgreSQL: ~320 us of CPU through the async engine,
~60 us on asyncpg alone (docs/adr/0008). So a unit of work borrows the pooled
connection's driver connection (asyncpg's, or aiosqlite's), runs its transaction on it,
and executes each statement here:

- the statement is compiled once per (statement, parameter names, dialect) and kept: its
  SQL text, parameter order and the column types' bind and result processors (JSON, UTC
  instants), exactly those SQLAlchemy would apply;
- one driver call per statement: asyncpg prepares the text once per connection; on SQLite
  the statement runs on the event loop's thread, on the connection aiosqlite opened (see
  `SqliteTransaction` for why, and which work still goes to aiosqlite's thread);
- rows come back as named tuples of processed values; `rowcount` from the driver; driver
  errors are raised as SQLAlchemy's own exception classes, so `errors.translated` and the
  repositories treat them exactly as before.

The repositories do not change: `Repository._execute` hands the statement to SQLAlchemy or
to `execute` here, depending on its unit of work.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

import aiosqlite
import asyncpg
from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter

from adapters.persistence.watchdog import IDLE as _IDLE
from adapters.persistence.watchdog import TICK as _tick
from adapters.persistence.watchdog import WatchedConnection as _Watched

Params = dict[str, Any] | Sequence[dict[str, Any]] | None
# The connection broke (terminated, closed, reset) rather than the statement failing.
_CONNECTION_GONE = (asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
DRIVER_ERRORS = (asyncpg.PostgresError, sqlite3.Error, *_CONNECTION_GONE)
_INTEGRITY = (asyncpg.IntegrityConstraintViolationError, sqlite3.IntegrityError)
_OPERATIONAL = (
    sqlite3.OperationalError, asyncpg.PostgresConnectionError, asyncpg.InsufficientResourcesError
)
Processor = Callable[[Any], Any] | None


class ReadOnlyViolation(RuntimeError):
    """A statement that writes, sent through a read-only unit of work."""


Binding = tuple[str, str, BindParameter[Any], Processor]
"""One positional argument: its parameter key, its name in the SQL, the bind parameter
(for a value it carries itself) and its type's bind processor."""


@dataclass(frozen=True, slots=True)
class DriverStatement:
    sql: str
    compiled: SQLCompiler
    plan: tuple[Binding, ...]  # the positional arguments, in order
    defaults: dict[str, Any]  # values given with `.params()` on the statement
    row: type[tuple[Any, ...]] | None  # named tuple of the result columns; None: no rows
    result: tuple[Processor, ...]
    expanding: bool  # has IN lists rendered per execution

    @property
    def writes(self) -> bool:
        return bool(self.compiled.isinsert or self.compiled.isupdate or self.compiled.isdelete)

    @property
    def verb(self) -> str:
        return self.sql.split(None, 1)[0]

    def bound(self, params: dict[str, Any] | None) -> tuple[str, list[Any]]:
        """The SQL text and its positional arguments for these parameters.

        What `SQLCompiler.construct_params` and the bind processors would give, in one
        pass over a plan made at compile time instead of a dict of every parameter that
        is then read back in order (a payment's 26-column insert: 13 → 5 µs).
        """
        if self.expanding:  # IN (...) lists: the text depends on the values
            state = self.compiled.construct_expanded_state(params)
            return state.statement, [
                _processed(state.processors.get(name), state.parameters[name])
                for name in state.positiontup or ()
            ]
        given = {**self.defaults, **(params or {})} if self.defaults else params or {}
        arguments = []
        for key, name, bind, process in self.plan:
            if key in given:
                value = given[key]
            elif name in given:
                value = given[name]
            elif bind.required:
                raise exc.InvalidRequestError(
                    f"A value is required for bind parameter {key!r}", code="cd3x"
                )
            else:
                value = bind.effective_value if bind.callable else bind.value
            arguments.append(value if process is None or value is None else process(value))
        return self.sql, arguments

    def rows(self, records: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        assert self.row is not None
        make, processors = self.row._make, self.result  # type: ignore[attr-defined]
        return [
            make(_processed(process, value)
                 for value, process in zip(record, processors, strict=True))
            for record in records
        ]


@lru_cache(maxsize=512)
def driver_statement(
    statement: Executable, keys: tuple[str, ...], dialect: Dialect
) -> DriverStatement:
    """The statement compiled for `dialect` with these parameter names. The module's
    constant statements stay compiled; those built per call (filtered listings) are
    compiled again and pass through the bounded cache."""
    compiled = statement.compile(  # type: ignore[attr-defined]
        dialect=dialect, column_keys=list(keys)
    )
    assert isinstance(compiled, SQLCompiler)
    processors = compiled._bind_processors  # by name: the order of `positiontup`
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    plan = tuple(
        (by_name[name].key, name, by_name[name], processors.get(name))
        for name in compiled.positiontup or ()
    )
    defaults = dict(getattr(compiled, "_collected_params", None) or {})
    row, result = None, ()
    if compiled._result_columns:
        columns = compiled._result_columns
        row = namedtuple("Row", [c.keyname for c in columns], rename=True)  # type: ignore[misc]
        result = tuple(c.type._cached_result_processor(dialect, None) for c in columns)
    expanding = bool(compiled.post_compile_params or compiled.literal_execute_params)
    return DriverStatement(compiled.string, compiled, plan, defaults, row, result, expanding)


class DriverResult:
    """The part of SQLAlchemy's `CursorResult` that the repositories use."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows, self.rowcount = rows, rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def scalars(self) -> Iterator[Any]:
        return (row[0] for row in self._rows)


async def execute(
    conn: Any, dialect: Dialect, statement: Executable, params: Params = None,
    *, writable: bool = True,
) -> DriverResult:
    """Run `statement` on the driver connection (asyncpg's, or aiosqlite's), as
    `AsyncConnection.execute` would; `writable=False` refuses a statement that writes
    before it is sent."""
    many = isinstance(params, Sequence) and not isinstance(params, dict)
    first = params[0] if many else params  # type: ignore[index]
    prepared = driver_statement(statement, tuple(first) if first else (), dialect)
    if not writable and prepared.writes:
        raise ReadOnlyViolation(f"cannot write in a read-only transaction: {prepared.verb}")
    on_sqlite = isinstance(conn, aiosqlite.Connection)
    watched = type(conn) is _Watched
    if watched:
        conn.sent_at = _tick[0]  # watchdog.sent, inline
    try:
        if many:
            bound = [prepared.bound(p) for p in params]  # type: ignore[union-attr]
            sql, rows = bound[0][0], [arguments for _, arguments in bound]
            if on_sqlite:
                sqlite_of(conn).executemany(sql, rows)
            else:
                await conn.executemany(sql, rows)
            return DriverResult([], -1)
        sql, arguments = prepared.bound(first)  # type: ignore[arg-type]
        if on_sqlite:
            return _on_sqlite(conn, prepared, sql, arguments)
        if prepared.row is not None:
            return DriverResult(prepared.rows(await conn.fetch(sql, *arguments)), -1)
        return DriverResult([], _rowcount(await conn.execute(sql, *arguments)))
    except DRIVER_ERRORS as error:
        raise wrapped(error, prepared.sql, params) from error
    finally:
        if watched:
            conn.sent_at = _IDLE


def sqlite_of(conn: aiosqlite.Connection) -> sqlite3.Connection:
    """The `sqlite3` connection aiosqlite opened (its `_conn`; the engine opens it with
    `check_same_thread=False`). Raises `ValueError` once it is closed, as aiosqlite does."""
    return conn._conn


def _on_sqlite(
    conn: aiosqlite.Connection, prepared: DriverStatement, sql: str, arguments: list[Any]
) -> DriverResult:
    cursor = sqlite_of(conn).execute(sql, arguments)
    try:
        if prepared.row is not None:
            return DriverResult(prepared.rows(cursor.fetchall()), -1)
        return DriverResult([], cursor.rowcount)
    finally:
        cursor.close()


class SqliteTransaction:
    """BEGIN / COMMIT / ROLLBACK on SQLite; a write unit takes the write lock at BEGIN
    (docs/adr/0005).

    A trip to aiosqlite's thread costs more CPU than the statement it carries (a queue, a
    thread wake-up, a call back into the loop, and the GIL twice), and SQLite's one write
    lock is held across every trip of a write unit. So statements run on the loop's own
    thread: inside a write unit the lock is already held and a statement never waits, and
    in WAL mode a reader never waits for a writer. Only what may block goes to the thread:

    - COMMIT, whose fsync takes ~0.1 ms on an SSD and much longer on slower disks;
    - BEGIN IMMEDIATE when another process holds the write lock: it is first tried with a
      zero busy timeout, and only if the lock is taken does it wait in the thread, for up
      to the connection's own busy timeout.

    If one of those trips is interrupted (the task cancelled while it runs) the thread may
    still finish it later, so `interrupted` tells the unit of work to drop the connection
    rather than hand it to someone whose statements could interleave with it.
    """

    __slots__ = ("_conn", "_immediate", "interrupted")

    def __init__(self, conn: aiosqlite.Connection, read_only: bool) -> None:
        self._conn, self._immediate, self.interrupted = conn, not read_only, False

    async def start(self) -> None:
        raw = sqlite_of(self._conn)
        if not self._immediate:
            raw.execute("BEGIN DEFERRED")  # takes no lock until the first read
            return
        timeout = _busy_timeout_ms(self._conn, raw)
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        finally:
            raw.execute(f"PRAGMA busy_timeout = {timeout}")
        await self._in_thread("BEGIN IMMEDIATE")  # another process writes: wait for it there

    async def commit(self) -> None:
        await self._in_thread("COMMIT")

    async def rollback(self) -> None:
        sqlite_of(self._conn).execute("ROLLBACK")  # no fsync: a rollback only drops pages

    async def _in_thread(self, sql: str) -> None:
        try:
            await self._conn.execute(sql)
        except sqlite3.Error:
            raise  # the thread finished it, and it failed
        except BaseException:
            self.interrupted = True
            raise


_BUSY_TIMEOUTS: WeakKeyDictionary[aiosqlite.Connection, int] = WeakKeyDictionary()


def _busy_timeout_ms(conn: aiosqlite.Connection, raw: sqlite3.Connection) -> int:
    """The busy timeout the connection was opened with, read on its first write unit only
    (a statement fewer per write unit after that)."""
    timeout = _BUSY_TIMEOUTS.get(conn)
    if timeout is None:
        timeout = _BUSY_TIMEOUTS[conn] = int(raw.execute("PRAGMA busy_timeout").fetchone()[0])
    return timeout


def transaction_on(conn: Any, read_only: bool) -> Any:
    """A not yet started transaction on the driver connection: asyncpg's own, or BEGIN
    statements on aiosqlite."""
    if isinstance(conn, aiosqlite.Connection):
        return SqliteTransaction(conn, read_only)
    try:
        return conn.transaction(readonly=read_only)
    except DRIVER_ERRORS as error:  # asyncpg refuses a closed connection right here
        raise wrapped(error, "BEGIN", None) from error


def is_closed(conn: Any) -> bool:
    """The driver connection broke under the unit of work (asyncpg knows; aiosqlite's
    file connection does not break that way)."""
    return not isinstance(conn, aiosqlite.Connection) and bool(conn.is_closed())


def in_transaction(conn: Any) -> bool:
    """A transaction is open on the driver connection (no round trip to tell)."""
    if isinstance(conn, aiosqlite.Connection):
        return bool(sqlite_of(conn).in_transaction)
    return bool(conn.is_in_transaction())


def is_reusable(conn: Any, transaction: Any) -> bool:
    """The connection may go back to the pool: it did not break, and no work of this unit
    may still be running on it in aiosqlite's thread."""
    return not is_closed(conn) and not getattr(transaction, "interrupted", False)


async def control(conn: Any, command: Callable[[], Awaitable[None]], sql: str) -> None:
    """BEGIN, COMMIT, ROLLBACK on `conn`: driver errors raised as SQLAlchemy's, like
    statements' errors (asyncpg checks the connection before it even makes the coroutine,
    so call `command` here), and watched like them."""
    watched = type(conn) is _Watched
    if watched:
        conn.sent_at = _tick[0]
    try:
        await command()
    except DRIVER_ERRORS as error:
        raise wrapped(error, sql, None) from error
    finally:
        if watched:
            conn.sent_at = _IDLE


def _processed(process: Processor, value: Any) -> Any:
    return value if process is None or value is None else process(value)


def _rowcount(status: str) -> int:
    """`INSERT 0 1`, `UPDATE 3`, `DELETE 0`: the command tag's last number."""
    tail = status.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else -1


def wrapped(error: Exception, sql: str | None, params: Any) -> exc.DBAPIError:
    """The SQLAlchemy exception class the async engine would have raised for `error`."""
    kind: type[exc.DBAPIError] = exc.DBAPIError
    if isinstance(error, _CONNECTION_GONE):
        kind = exc.InterfaceError
    elif isinstance(error, _INTEGRITY):
        kind = exc.IntegrityError
    elif isinstance(error, _OPERATIONAL):  # the server cannot do it now: locked, busy, down
        kind = exc.OperationalError
    elif isinstance(error, asyncpg.DataError):
        kind = exc.DataError
    return kind(sql, params, error)
