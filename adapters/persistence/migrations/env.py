"""Alembic environment for both dialects, async drivers included.

Every upgrade runs in one transaction that takes the write lock at BEGIN on SQLite and
an advisory lock (per schema) on PostgreSQL, so workers that all upgrade on first start
take turns: the first migrates, the others find the schema at head and do nothing.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from adapters.persistence.engine import DEFAULT_DATABASE_URL, create_engine
from adapters.persistence.migrate import run_in_write_transaction
from adapters.persistence.schema import metadata

MIGRATION_LOCK = 0x7061_7967  # "payg"; with the schema's hash, the advisory lock's key

config = context.config
if config.config_file_name is not None:  # the alembic command line, not `upgrade_database`
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    return (
        config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("PAYGATE_DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


def _offline() -> None:
    context.configure(
        url=_url(), target_metadata=metadata, literal_binds=True, transactional_ddl=True
    )
    with context.begin_transaction():
        context.run_migrations()


def _online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # `upgrade_database` passes its own connection
        _run(connection)
        return
    pooler = config.attributes.get("pooler") or os.environ.get("PAYGATE_DATABASE_POOLER")
    engine = create_engine(_url(), poolclass=NullPool, pooler=pooler or None)

    async def upgrade() -> None:
        try:
            await run_in_write_transaction(engine, _run)
        finally:
            await engine.dispose()

    asyncio.run(upgrade())


if context.is_offline_mode():
    _offline()
else:
    _online()
