"""A test's schema is dropped in bounded time even while a session it left behind holds a
table of it (tests/integration/pg_schemas.py): the suite ends instead of waiting forever."""

from __future__ import annotations

import asyncio
import time

import pytest
from pg_schemas import create_schema, drop_schema
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

pytestmark = pytest.mark.postgres


async def _schema_exists(url: str, schema: str) -> bool:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema})
            return found.first() is not None
    finally:
        await engine.dispose()


async def test_a_session_idle_in_a_transaction_on_the_schema_does_not_hold_up_its_drop(
    postgres_server: str,
) -> None:
    schema = await create_schema(postgres_server)
    holder = create_async_engine(postgres_server, poolclass=NullPool)
    conn = await holder.connect()
    try:
        await conn.execute(text(f'CREATE TABLE "{schema}".held (n int)'))
        await conn.commit()
        # a lock that its open transaction keeps
        await conn.execute(text(f'SELECT * FROM "{schema}".held'))

        started = time.monotonic()
        dropped = await asyncio.wait_for(drop_schema(postgres_server, schema), timeout=60)

        assert dropped is True
        assert time.monotonic() - started < 30
        assert not await _schema_exists(postgres_server, schema)
    finally:
        await conn.invalidate()  # its session was ended: there is nothing to roll back
        await conn.close()
        await holder.dispose()
        await drop_schema(postgres_server, schema)


async def test_an_unheld_schema_is_dropped_at_once(postgres_server: str) -> None:
    schema = await create_schema(postgres_server)

    started = time.monotonic()
    assert await drop_schema(postgres_server, schema) is True

    assert time.monotonic() - started < 5  # no lock wait was needed
    assert not await _schema_exists(postgres_server, schema)
