"""Real databases for integration tests: an SQLite file and a PostgreSQL schema per test.

Fixtures, reusable by the HTTP and CLI suites:
- `sqlite_url`: an empty SQLite file in the test's tmp dir;
- `postgres_url`: an empty schema of its own (`...?search_path=paygate_test_...`), dropped
  after the test; every paygate process given this URL works inside that schema;
- `database_url`: either of the two (tests using it run once per dialect);
- `migrated_url`: `database_url` at head: a copy of a migrated SQLite file, or the
  statements the migrations sent to a PostgreSQL schema once per worker, sent again
  (`pg_template`; `test_db_migrations.py` shows both equal to migrating);
- `postgres_migration_statements`: those statements, for fixtures of other suites;
- `engine` / `uow_factory`: an engine and a `SqlUnitOfWorkFactory` on `migrated_url`;
- `engine_factory`: more engines on `migrated_url` (disposed afterwards), for tests that
  need connections of their own, as separate processes would have;
- `master_key_file`: a key file provisioned in the test's tmp dir, as a deployment mounts
  its secret (no paygate command but the quickstart makes a key).

PostgreSQL comes from `PAYGATE_TEST_POSTGRES_URL` (default
`postgresql+asyncpg://postgres@127.0.0.1:5432/test`). When it cannot be reached its tests
are skipped, except under `CI=true`, where they fail: CI must never go green by skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pg_schemas import create_schema, drop_schema
from pg_template import Statement, recorded_once, replay
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.persistence import (
    SqlUnitOfWorkFactory,
    create_engine,
    upgrade_database,
)
from adapters.platform.vault import create_key_file

POSTGRES_ENV = "PAYGATE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def _probe(url: str) -> str | None:
    """None when PostgreSQL answers, else why not."""
    engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": 3})
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect means "not reachable"
        return f"{type(error).__name__}: {error}"
    finally:
        await engine.dispose()
    return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a reachable PostgreSQL, or a skip (a failure under CI=true)."""
    url = os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES_URL)
    problem = asyncio.run(_probe(url))
    if problem is not None:
        shown = make_url(url).render_as_string(hide_password=True)
        message = f"PostgreSQL at {shown} is not reachable ({problem}); set {POSTGRES_ENV}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}. CI=true: PostgreSQL tests must run, not skip.")
        pytest.skip(message)
    return url


@pytest.fixture
async def postgres_url(postgres_server: str) -> AsyncIterator[str]:
    schema = await create_schema(postgres_server)
    try:
        yield str(make_url(postgres_server).update_query_dict({"search_path": schema}))
    finally:
        await drop_schema(postgres_server, schema)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'paygate.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture(scope="session")
def _migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once per run; each test gets a copy, which is what migrating would give."""
    path = tmp_path_factory.mktemp("template") / "paygate.db"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migration_statements(postgres_server: str) -> list[Statement]:
    """What the migrations send to take an empty PostgreSQL schema to head, recorded once
    per worker; `replay` sends them to a test's own schema."""
    return recorded_once(postgres_server)


@pytest.fixture
async def migrated_url(
    database_url: str, _migrated_sqlite_template: Path, request: pytest.FixtureRequest
) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        shutil.copyfile(_migrated_sqlite_template, url.database)
    else:
        await replay(database_url, request.getfixturevalue("postgres_migration_statements"))
    return database_url


@pytest.fixture
async def engine_factory(migrated_url: str) -> AsyncIterator[Callable[..., AsyncEngine]]:
    engines: list[AsyncEngine] = []

    def make(url: str | None = None, **options: Any) -> AsyncEngine:
        """An engine on the migrated database (or on `url`, another way to reach it)."""
        engines.append(create_engine(url or migrated_url, **options))
        return engines[-1]

    yield make
    await asyncio.gather(*(engine.dispose() for engine in engines))


@pytest.fixture
def engine(engine_factory: Callable[..., AsyncEngine]) -> AsyncEngine:
    return engine_factory()


@pytest.fixture
def uow_factory(engine: AsyncEngine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)


@pytest.fixture
def dialect(database_url: str) -> str:
    """`sqlite` or `postgresql`, for the few assertions that differ by design."""
    return make_url(database_url).get_backend_name()


@pytest.fixture
def master_key_file(tmp_path: Path) -> Path:
    """`tmp_path/paygate.key`, holding a fresh key readable by its owner only."""
    path = tmp_path / "paygate.key"
    create_key_file(path)
    return path
