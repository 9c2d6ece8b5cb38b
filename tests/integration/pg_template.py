"""A PostgreSQL schema at head without running the migrations for every test.

Running alembic's upgrade into a test's schema takes one to two seconds, most of it
alembic's own work (loading eleven scripts, building their operations) and the wait for
the migration lock every worker shares. The statements it finally sends are the same every
time: the schema starts empty, so no migration finds anything to move or to skip.

So each pytest worker runs the real migrations once, into a schema of its own, and records
every statement the driver was sent, with its parameters, in order (SQLAlchemy's
`before_cursor_execute` event). A test's schema is then made by sending those statements
again, in one transaction, on a connection whose `search_path` names the new schema: that
is what the upgrade does, less alembic. Nothing recorded may name the schema it was
recorded in (it would reach back into it); recording fails if something does.

`test_db_migrations.py` shows the two schemas equal, catalog and rows, and every test about
the migrations themselves still runs them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from alembic import command
from pg_schemas import create_schema, drop_schema
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from adapters.persistence import create_engine
from adapters.persistence.migrate import alembic_config, run_in_write_transaction

TEMPLATE_PREFIX = "paygate_template_"
# The migration environment serialises upgrades with a transaction-scoped advisory lock,
# for workers that upgrade one schema together. A replay is into a schema no one else
# knows yet; taking that lock would only make the suite's workers queue for each other.
LOCK_ONLY = "pg_advisory_xact_lock"


@dataclass(frozen=True)
class Statement:
    """One statement as the driver took it: its text, parameters, and whether it was an
    `executemany`."""

    sql: str
    parameters: Any
    many: bool


def _record(into: list[Statement]) -> Any:
    def before_cursor_execute(
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        into.append(Statement(statement, parameters, executemany))

    return before_cursor_execute


async def record_migrations(url: str) -> list[Statement]:
    """Upgrade the empty schema of `url` to head, as `upgrade_database` does, and return
    the statements sent to the driver, in order."""
    statements: list[Statement] = []
    engine = create_engine(url, poolclass=NullPool)

    def upgrade(connection: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        listener = _record(statements)
        event.listen(connection, "before_cursor_execute", listener)
        try:
            command.upgrade(config, "head")
        finally:
            event.remove(connection, "before_cursor_execute", listener)

    try:
        await run_in_write_transaction(engine, upgrade)
    finally:
        await engine.dispose()
    return statements


def replayable(statements: Sequence[Statement], schema: str) -> list[Statement]:
    """`statements` without the migration lock; an error if any names `schema`."""
    for statement in statements:
        if schema in statement.sql or schema in repr(statement.parameters):
            raise AssertionError(
                f"a migration statement names the schema it ran in ({schema}); it cannot be"
                f" sent to another schema: {statement.sql}"
            )
    return [s for s in statements if LOCK_ONLY not in s.sql]


async def migration_statements(server_url: str) -> list[Statement]:
    """The statements that take an empty schema to head, recorded in a schema of their
    own (dropped afterwards)."""
    schema = await create_schema(server_url, prefix=TEMPLATE_PREFIX)
    try:
        url = str(make_url(server_url).update_query_dict({"search_path": schema}))
        return replayable(await record_migrations(url), schema)
    finally:
        await drop_schema(server_url, schema)


async def replay(url: str, statements: Sequence[Statement]) -> None:
    """Send `statements` to the (empty) schema of `url`, in one transaction."""
    engine = create_engine(url, poolclass=NullPool)

    def send(connection: Connection) -> None:
        for statement in statements:
            if statement.many:
                connection.exec_driver_sql(statement.sql, list(statement.parameters))
            else:
                connection.exec_driver_sql(statement.sql, statement.parameters)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(send)
    finally:
        await engine.dispose()


def recorded_once(server_url: str) -> list[Statement]:
    """`migration_statements`, blocking; callable whether or not an event loop runs in
    this thread (a session fixture may first be asked for by an async one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, migration_statements(server_url)).result()
