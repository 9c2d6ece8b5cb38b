"""A test's own PostgreSQL schema: made empty, and dropped afterwards without ever waiting
forever.

`DROP SCHEMA ... CASCADE` takes an exclusive lock on every table of the schema. A test's
processes may still hold a lock there when its fixtures are torn down (a gateway started by
a fixture set up before the schema's is stopped after it; a process the harness had to
SIGKILL may leave a child behind), and PostgreSQL waits for a lock without limit. So the
drop waits a bounded time; when it is refused, it ends the sessions holding a lock in this
schema (they belong to this test alone: every schema is unique) and tries again, and in
the end it leaves the schema behind with a warning rather than hang the suite.
"""

from __future__ import annotations

import asyncio
import warnings

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

LOCK_WAIT = "5s"
TRIES = 4

_HOLDERS = text("""
    SELECT DISTINCT l.pid FROM pg_locks l
    JOIN pg_class c ON c.oid = l.relation
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND l.pid <> pg_backend_pid()
""")


async def admin(url: str, statement: str) -> None:
    """One statement on its own connection, outside any transaction."""
    engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def create_schema(url: str, schema: str) -> None:
    await admin(url, f'CREATE SCHEMA "{schema}"')


async def drop_schema(url: str, schema: str) -> bool:
    """Drop `schema` and all in it; False (and a warning) when it could not be dropped."""
    engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f"SET lock_timeout = '{LOCK_WAIT}'"))
            for _ in range(TRIES):
                try:
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                except DBAPIError:  # lock_timeout: someone still holds a table of it
                    holders = (await conn.execute(_HOLDERS, {"schema": schema})).scalars().all()
                    for pid in holders:
                        await conn.execute(text("SELECT pg_terminate_backend(:pid)"),
                                           {"pid": pid})
                    await asyncio.sleep(0.2)
                else:
                    return True
    finally:
        await engine.dispose()
    warnings.warn(f"schema {schema} was left behind: its tables stayed locked", stacklevel=2)
    return False
