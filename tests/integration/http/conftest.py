"""The HTTP suite: a real paygate app on a real database, one per test.

SQLite by default: the schema is migrated once per session into a template file that
each test copies, which is much faster than running the migrations every time. The tests
that must hold on PostgreSQL too take `any_db_url` (the shared `database_url`, migrated).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_harness import ADMIN_TOKEN, BASE_URL, SANDBOX_SECRET, Api, ApiFactory, Keys
from pg_template import replay
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from adapters.persistence import create_engine, upgrade_database
from entrypoints.container import Container, build_container, close_container
from entrypoints.http.factory import build_http_app
from entrypoints.settings import Settings


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "paygate.db"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    return path


def _copy_template(url: str, template: Path) -> str:
    database = make_url(url).database
    assert database
    shutil.copyfile(template, database)
    return url


@pytest.fixture
def http_sqlite_url(sqlite_url: str, migrated_sqlite_template: Path) -> str:
    return _copy_template(sqlite_url, migrated_sqlite_template)


@pytest.fixture
async def any_db_url(
    database_url: str, migrated_sqlite_template: Path, request: pytest.FixtureRequest
) -> str:
    """The shared `database_url` (SQLite, then PostgreSQL), at the newest schema."""
    if make_url(database_url).get_backend_name() == "sqlite":
        return _copy_template(database_url, migrated_sqlite_template)
    await replay(database_url, request.getfixturevalue("postgres_migration_statements"))
    return database_url


def settings_for(url: str, tmp_path: Path, **changes: Any) -> Settings:
    return Settings(
        database_url=url,
        admin_token=ADMIN_TOKEN,
        master_key_file=tmp_path / "paygate.key",
        sandbox_secret=SANDBOX_SECRET,
        worker=False,
        tracing=False,
    ).but(**changes)


@pytest.fixture
async def open_api(tmp_path: Path, master_key_file: Path) -> AsyncIterator[ApiFactory]:
    """`await open_api(url, adapt=..., **settings)`: an app, closed after the test.

    `adapt(container)` may override providers before the app resolves them. The worker is
    off, so the app has nothing to start; closing the container is its whole shutdown.
    """
    async with AsyncExitStack() as stack:

        async def open_(
            url: str, adapt: Callable[[Container], None] | None = None, **changes: Any
        ) -> Api:
            container = build_container(settings_for(url, tmp_path, **changes))
            if adapt is not None:
                adapt(container)
            app = build_http_app(container)
            stack.push_async_callback(close_container, container)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
            )
            engine = create_engine(url, poolclass=NullPool)
            stack.push_async_callback(engine.dispose)
            return Api(client, container, engine)

        yield open_


@pytest.fixture
async def api(open_api: ApiFactory, http_sqlite_url: str) -> Api:
    return await open_api(http_sqlite_url)


@pytest.fixture
async def merchant(api: Api) -> Keys:
    return await api.new_merchant("Acme Ltd")


@pytest.fixture
async def other_merchant(api: Api) -> Keys:
    return await api.new_merchant("Globex Corp")
