"""Small building blocks shared by the repositories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Self, TypeVar, cast

from sqlalchemy import Column, ColumnElement, Insert, Select, Table, and_, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

from adapters.persistence import driver
from adapters.persistence.engine import autocommit, transaction_setup
from adapters.persistence.errors import as_unavailable, is_failure, is_unavailable, unavailable
from adapters.persistence.gate import connection_gate_of, gate_of
from application.ports.storage import Cursor, Page

T = TypeVar("T")
Params = dict[str, Any] | Sequence[dict[str, Any]] | None


class Repository:
    """A repository works on the connection of its unit of work and never commits.

    Built on an `AsyncConnection` (statements outside any unit of work, `Autocommit`), or
    with `on_driver` on the driver connection a unit of work's transaction runs on, where
    statements go straight to the driver (`driver.execute`, docs/adr/0008).
    """

    __slots__ = ("_conn", "_dialect", "_driver", "_writable")

    def __init__(
        self,
        conn: AsyncConnection | None,
        dialect: Dialect | None = None,
        on_driver: Any = None,
        writable: bool | driver.OneWrite = True,
    ) -> None:
        """On `conn`, or (`conn=None`) on the driver connection `on_driver` of `dialect`."""
        if conn is not None:
            dialect = conn.dialect
        elif dialect is None:
            raise ValueError("a repository works on a connection, or on a dialect's driver")
        self._conn, self._dialect = conn, dialect
        self._driver, self._writable = on_driver, writable

    @classmethod
    def on_driver(cls, dialect: Dialect, on: Any, writable: bool | driver.OneWrite = True) -> Self:
        return cls(None, dialect, on, writable)

    @property
    def dialect(self) -> str:
        return self._dialect.name

    async def _execute(self, statement: Executable, params: Params = None) -> Any:
        try:
            if self._conn is None:
                return await driver.execute(
                    self._driver, self._dialect, statement, params, writable=self._writable
                )
            return await self._conn.execute(statement, params)
        except Exception as error:
            if is_unavailable(error):
                raise unavailable(error, "running a statement") from error
            if is_failure(error) and not isinstance(
                    error, (driver.ReadOnlyViolation, driver.SecondWriteRefused)):
                # not SQLAlchemy's nor the driver's error classes: the statement failed
                # around the driver, its transaction is lost (docs/adr/0028)
                raise as_unavailable(error, "running a statement") from error
            raise


class Autocommit:
    """Statements outside any unit of work, each committing on its own (one round trip);
    on SQLite they queue at the engine's `WriteGate` like every other writer. Behind a
    transaction pooler each statement has a transaction of its own (`_OwnTransactions`)."""

    __slots__ = ("_engine", "_gate", "_pooled", "_turn")

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = autocommit(engine)
        self._gate = gate_of(engine)
        self._turn = connection_gate_of(engine)
        self._pooled = transaction_setup(engine) is not None

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with (
                self._gate or nullcontext(),
                self._turn or nullcontext(),
                self._engine.connect() as conn,
            ):
                # what callers use of a connection (`execute`, `dialect`), on its own terms
                yield cast(AsyncConnection, _OwnTransactions(conn)) if self._pooled else conn
        except Exception as error:
            if is_failure(error):  # failed around the statement, nothing committed
                raise as_unavailable(error, "running a statement") from error
            raise


class _OwnTransactions:
    """A connection whose statements each run in a transaction of their own, committed
    when it succeeds: autocommit, with no statement outside a transaction (the engine's
    module doc says why a transaction pooler needs that)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    @property
    def dialect(self) -> Dialect:
        return self._conn.dialect

    async def execute(self, statement: Executable, params: Params = None) -> Any:
        async with self._conn.begin():
            return await self._conn.execute(statement, params)


class InsertIgnoring:
    """`INSERT ... ON CONFLICT (columns) DO NOTHING`, built once per dialect.

    A conflict is reported by a row count of 0 instead of an exception, which on
    PostgreSQL would abort the whole transaction.
    """

    __slots__ = ("_statements",)

    def __init__(self, table: Table, *conflict_columns: str) -> None:
        self._statements: dict[str, Insert] = {
            "sqlite": sqlite_insert(table).on_conflict_do_nothing(index_elements=conflict_columns),
            "postgresql": pg_insert(table).on_conflict_do_nothing(index_elements=conflict_columns),
        }

    def on(self, dialect: str) -> Insert:
        return self._statements[dialect]


def newest_first(
    statement: Select[Any],
    created_at: Column[Any],
    key: Column[Any],
    cursor: Cursor | None,
    limit: int,
) -> Select[Any]:
    """Order newest first, ties on `created_at` broken by the id; fetch one row extra."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if cursor is not None:
        after: ColumnElement[bool] = or_(
            created_at < cursor.created_at,
            and_(created_at == cursor.created_at, key < cursor.key),
        )
        statement = statement.where(after)
    return statement.order_by(created_at.desc(), key.desc()).limit(limit + 1)


def page_of(items: list[T], limit: int, position: Callable[[T], Cursor]) -> Page[T]:
    """Cut the extra row fetched by `newest_first` into the next page's cursor."""
    if len(items) <= limit:
        return Page(items)
    kept = items[:limit]
    return Page(kept, position(kept[-1]))


def utc_day(day: date) -> tuple[datetime, datetime]:
    """The half-open instant range [00:00, next 00:00) of a UTC day."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)
