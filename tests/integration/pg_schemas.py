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
import os
import uuid
import warnings

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

PREFIX = "paygate_test_"
LOCK_WAIT = "5s"
TRIES = 4

_HOLDERS = text("""
    SELECT DISTINCT l.pid FROM pg_locks l
    JOIN pg_class c ON c.oid = l.relation
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND l.pid <> pg_backend_pid()
""")


def _outside_transactions(url: str) -> AsyncEngine:
    """An engine of one connection at a time whose statements each commit on their own."""
    return create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")


async def create_schema(url: str, prefix: str = PREFIX) -> str:
    """A new empty schema named `prefix`, this process's id and a random part; its name."""
    schema = f"{prefix}{os.getpid()}_{uuid.uuid4().hex[:10]}"
    engine = _outside_transactions(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        await engine.dispose()
    return schema


async def drop_schema(url: str, schema: str) -> bool:
    """Drop `schema` and all in it; False (and a warning) when it could not be dropped."""
    engine = _outside_transactions(url)
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
