"""`upgrade_database`: `alembic upgrade head` from Python, with the packaged migrations.

The CLI (`paygate db upgrade`) and the first-run auto-upgrade call it; neither needs an
alembic.ini or a working directory, because the script location is found next to this
module.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from adapters.persistence.engine import BEGIN_MODE, DEFAULT_DATABASE_URL, IMMEDIATE, create_engine
from adapters.persistence.errors import translated

MIGRATIONS = Path(__file__).with_name("migrations")
_ALEMBIC = threading.Lock()  # alembic keeps the running migration's context in module globals


def alembic_config(url: str | None = None, pooler: str | None = None) -> Config:
    """A `Config` pointing at the packaged migrations; `url` travels as an attribute so
    that a `%` in a password is never taken for ini interpolation."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.attributes["url"] = url
    if pooler is not None:
        config.attributes["pooler"] = pooler
    return config


async def run_in_write_transaction(engine: AsyncEngine, work: Callable[[Connection], None]) -> None:
    """Run blocking alembic `work` on one connection, inside one write transaction."""
    async with engine.connect() as conn:
        await conn.execution_options(**{BEGIN_MODE: IMMEDIATE})
        await conn.begin()
        await conn.run_sync(work)
        await conn.commit()


async def _upgrade(url: str, revision: str, pooler: str | None) -> None:
    engine = create_engine(url, poolclass=NullPool, pooler=pooler)

    def upgrade(connection: Connection) -> None:
        config = alembic_config(url, pooler)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    try:
        with translated("upgrading the schema"):
            await run_in_write_transaction(engine, upgrade)
    except Exception:
        # aiosqlite stops the thread of a failed connection by posting back to this loop,
        # which closes when we return: give the thread that moment.
        await asyncio.sleep(0.05)
        raise
    finally:
        await engine.dispose()


def upgrade_database(
    url: str = DEFAULT_DATABASE_URL, revision: str = "head", pooler: str | None = None
) -> None:
    """Upgrade the schema at `url` to `revision`. Blocking; raises `Unavailable` when the
    database cannot be reached.

    `pooler` as `create_engine` takes it. Safe from any thread, even one running an event
    loop (the upgrade then runs on a helper thread while that loop waits), and from several
    workers at once: the database lock taken by the migration environment makes them take
    turns.
    """
    with _ALEMBIC:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(_upgrade(url, revision, pooler))
            return
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _upgrade(url, revision, pooler)).result()


async def upgrade_database_async(
    url: str = DEFAULT_DATABASE_URL, revision: str = "head", pooler: str | None = None
) -> None:
    """`upgrade_database` without blocking the caller's event loop (it runs on a thread)."""
    await asyncio.to_thread(upgrade_database, url, revision, pooler)
