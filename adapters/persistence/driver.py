"""paygate's Core statements, executed on the driver connection itself.

SQLAlchemy builds and compiles every statement; what it costs at run time is the
execution layer around the driver: per statement a greenlet hop, execution-context and
result objects and events (and on SQLite three or four hops to aiosqlite's thread:
cursor, execute, fetch, close), per unit of work the transaction bookkeeping. Measured on
a unit of work reading one row on PostgreSQL: ~320 us of CPU through the async engine,
~60 us on asyncpg alone (docs/adr/0008). So a unit of work borrows the pooled
connection's driver connection (asyncpg's, or the `sqlite3` connection paygate opened
under aiosqlite's), runs its transaction on it, and executes each statement here:

- the statement is compiled once per (statement, parameter names, dialect) and kept
  (`compiled.driver_statement`, on SQLAlchemy's public compile API): its SQL text,
  parameter order and the column types' bind and result processors (JSON, UTC instants),
  exactly those SQLAlchemy would apply;
- one driver call per statement: asyncpg prepares the text once per connection; on SQLite
  the statement runs on the event loop's thread (see `SqliteTransaction` for why, and
  which work still goes to aiosqlite's thread);
- rows come back as named tuples of processed values; `rowcount` from the driver; driver
  errors are raised as SQLAlchemy's own exception classes, so `errors.translated` and the
  repositories treat them exactly as before.

The repositories do not change: `Repository._execute` hands the statement to SQLAlchemy or
to `execute` here, depending on its unit of work.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import suppress
from typing import Any

import aiosqlite
from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Executable

from adapters.persistence.compiled import DriverStatement, driver_statement
from adapters.persistence.driver_errors import DRIVER_ERRORS, wrapped
from adapters.persistence.sqlite_connections import INFO_KEY, SqliteTransaction, sqlite_of
from adapters.persistence.watchdog import IDLE as _IDLE
from adapters.persistence.watchdog import TICK as _tick
from adapters.persistence.watchdog import WatchedConnection as _Watched

Params = dict[str, Any] | Sequence[dict[str, Any]] | None
CLOSE_TIMEOUT = 2.0  # seconds a PostgreSQL server gets to acknowledge a closing connection


class ReadOnlyViolation(RuntimeError):
    """A statement that writes, sent through a read-only unit of work."""


class SecondWriteRefused(RuntimeError):
    """A second statement that writes, sent through a single-statement unit of work, whose
    first may already have committed on its own."""


class OneWrite:
    """The write budget of a single-statement unit of work, shared by its repositories:
    one statement that writes; reads before and after it are free."""

    __slots__ = ("spent",)

    def __init__(self) -> None:
        self.spent = False


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
    *, writable: bool | OneWrite = True,
) -> DriverResult:
    """Run `statement` on `conn` (asyncpg's connection, or the `sqlite3` one of a SQLite
    unit: `statements_on`), as `AsyncConnection.execute` would; `writable=False` refuses a
    statement that writes before it is sent, and a spent `OneWrite` a second one."""
    batch: Sequence[dict[str, Any]] | None
    first: dict[str, Any] | None
    if isinstance(params, Sequence):
        batch, first = params, params[0]
    else:
        batch, first = None, params
    prepared = driver_statement(statement, tuple(first) if first else (), dialect)
    if prepared.writes and writable is not True:
        if writable is False:
            raise ReadOnlyViolation(f"cannot write in a read-only transaction: {prepared.verb}")
        if writable.spent:
            raise SecondWriteRefused(
                f"a single-statement unit of work has one statement that writes: {prepared.verb}")
        writable.spent = True
    on_sqlite = isinstance(conn, sqlite3.Connection)
    watched = type(conn) is _Watched
    if watched:
        conn.sent_at = _tick[0]  # watchdog.sent, inline
    try:
        if batch is not None:
            bound = [prepared.bound(p) for p in batch]
            sql, rows = bound[0][0], [arguments for _, arguments in bound]
            if on_sqlite:
                conn.executemany(sql, rows)
            else:
                await conn.executemany(sql, rows)
            return DriverResult([], -1)
        sql, arguments = prepared.bound(first)
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


def statements_on(pooled: PoolProxiedConnection) -> Any:
    """Where a unit's statements run: the `sqlite3` connection paygate opened under
    aiosqlite's (kept in the pool entry's `info`), or asyncpg's connection itself."""
    return pooled.info.get(INFO_KEY) or pooled.driver_connection


def _on_sqlite(
    conn: sqlite3.Connection, prepared: DriverStatement, sql: str, arguments: list[Any]
) -> DriverResult:
    cursor = conn.execute(sql, arguments)
    try:
        if prepared.row is not None:
            return DriverResult(prepared.rows(cursor.fetchall()), -1)
        return DriverResult([], cursor.rowcount)
    finally:
        cursor.close()


class PooledTransaction:
    """A transaction behind a transaction pooler: BEGIN and the transaction's settings
    (`engine.transaction_setup`) in one simple-protocol message, so that setting them
    costs no round trip; COMMIT and ROLLBACK as asyncpg's own transaction sends them."""

    __slots__ = ("_begin", "_conn")

    def __init__(self, conn: Any, read_only: bool, setup: str) -> None:
        begin = "BEGIN READ ONLY" if read_only else "BEGIN"
        self._conn, self._begin = conn, f"{begin}; {setup}" if setup else begin

    async def start(self) -> None:
        await self._conn.execute(self._begin)

    async def commit(self) -> None:
        await self._conn.execute("COMMIT")

    async def rollback(self) -> None:
        await self._conn.execute("ROLLBACK")


def transaction_on(
    conn: Any, read_only: bool, statements: Any = None, setup: str | None = None
) -> Any:
    """A not yet started transaction on the driver connection: asyncpg's own (or, behind
    a transaction pooler, `setup` given, a `PooledTransaction`), or BEGIN statements on
    the `sqlite3` connection under aiosqlite's (`statements`)."""
    if isinstance(conn, aiosqlite.Connection):
        return SqliteTransaction(conn, statements or sqlite_of(conn), read_only)
    if setup is not None:
        return PooledTransaction(conn, read_only, setup)
    try:
        return conn.transaction(readonly=read_only)
    except DRIVER_ERRORS as error:  # asyncpg refuses a closed connection right here
        raise wrapped(error, "BEGIN", None) from error


def is_closed(conn: Any) -> bool:
    """The driver connection broke under the unit of work (asyncpg knows; aiosqlite's
    file connection does not break that way)."""
    return not isinstance(conn, aiosqlite.Connection) and bool(conn.is_closed())


def in_transaction(statements: Any) -> bool:
    """A transaction is open on the connection a unit's statements run on (no round
    trip to tell): the `sqlite3` one, or asyncpg's."""
    if isinstance(statements, sqlite3.Connection):
        return statements.in_transaction
    return bool(statements.is_in_transaction())


def is_reusable(conn: Any, transaction: Any) -> bool:
    """The connection may go back to the pool: it did not break, and no work of this unit
    may still be running on it in aiosqlite's thread."""
    return not is_closed(conn) and not getattr(transaction, "interrupted", False)


async def close(conn: Any) -> None:
    """Close the driver connection with the driver's own call, for a connection the pool
    will not take back (broken, interrupted, or beyond what the pool keeps): aiosqlite's
    close waits for whatever its thread still runs; asyncpg's says goodbye to the server,
    or drops the socket if the server does not answer."""
    if isinstance(conn, aiosqlite.Connection):
        with suppress(ValueError, sqlite3.Error):  # ValueError: it was closed already
            await conn.close()
        return
    if conn.is_closed():
        return
    try:
        await conn.close(timeout=CLOSE_TIMEOUT)
    except BaseException as error:
        conn.terminate()
        if not isinstance(error, Exception):
            raise


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
    except Exception as error:  # beyond its error classes: the command failed all the same
        if isinstance(error, exc.SQLAlchemyError):
            raise
        raise exc.DBAPIError(sql, None, error) from error
    finally:
        if watched:
            conn.sent_at = _IDLE


def _rowcount(status: str) -> int:
    """`INSERT 0 1`, `UPDATE 3`, `DELETE 0`: the command tag's last number."""
    tail = status.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else -1


__all__ = [
    "DRIVER_ERRORS",
    "DriverResult",
    "DriverStatement",
    "OneWrite",
    "ReadOnlyViolation",
    "SecondWriteRefused",
    "SqliteTransaction",
    "close",
    "control",
    "driver_statement",
    "execute",
    "in_transaction",
    "is_closed",
    "is_reusable",
    "sqlite_of",
    "statements_on",
    "transaction_on",
    "wrapped",
]
