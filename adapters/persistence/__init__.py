"""Persistence on SQLAlchemy 2 Core: SQLite (aiosqlite, the default) and PostgreSQL (asyncpg).

    engine = create_engine(url, pool_size=20)
    uow_factory = SqlUnitOfWorkFactory(engine)         # UnitOfWorkFactory
    idempotency = SqlIdempotencyStore(engine)          # IdempotencyStore
    await upgrade_database_async(url)                  # or upgrade_database(url), blocking

Domain objects never see SQLAlchemy: each repository maps rows explicitly (docs/adr/0004).
"""

from adapters.persistence.engine import DEFAULT_DATABASE_URL, autocommit, create_engine, is_sqlite
from adapters.persistence.idempotency import SqlIdempotencyStore
from adapters.persistence.migrate import upgrade_database, upgrade_database_async
from adapters.persistence.schema import metadata
from adapters.persistence.uow import SqlUnitOfWork, SqlUnitOfWorkFactory

__all__ = [
    "DEFAULT_DATABASE_URL",
    "SqlIdempotencyStore",
    "SqlUnitOfWork",
    "SqlUnitOfWorkFactory",
    "autocommit",
    "create_engine",
    "is_sqlite",
    "metadata",
    "upgrade_database",
    "upgrade_database_async",
]
