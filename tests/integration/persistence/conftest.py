"""Fixtures of the persistence contract suite."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from pg_schemas import create_schema, drop_schema
from pg_template import Statement, replay
from sqlalchemy.engine import make_url

from adapters.persistence import SqlUnitOfWorkFactory, create_engine
from application.ports.storage import UnitOfWorkFactory
from domain.merchant import Merchant
from domain.payment import Payment
from tests.unit.fakes.storage import FakeDatabase, FakeUnitOfWorkFactory

Seed = Callable[..., Awaitable[None]]


@pytest.fixture
def seed(uow_factory: SqlUnitOfWorkFactory) -> Seed:
    """`await seed(*merchants_and_payments)`: commit them, in order, in one unit of work."""

    async def add(*objects: Merchant | Payment) -> None:
        async with uow_factory() as uow:
            for obj in objects:
                if isinstance(obj, Merchant):
                    await uow.merchants.add(obj)
                else:
                    await uow.payments.add(obj)
            await uow.commit()

    return add


BACKENDS = ["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> tuple[str, str | None, list[Statement]]:
    """Which implementation, and where its database comes from: the session's migrated
    SQLite file, or a reachable PostgreSQL (a skip, or a failure under CI=true) and the
    statements that take a schema of it to head."""
    if request.param == "sqlite":
        return "sqlite", str(request.getfixturevalue("_migrated_sqlite_template")), []
    if request.param == "postgres":
        return (
            "postgres",
            str(request.getfixturevalue("postgres_server")),
            request.getfixturevalue("postgres_migration_statements"),
        )
    return "fake", None, []


@pytest.fixture
async def units(
    backend: tuple[str, str | None, list[Statement]], tmp_path: Path
) -> AsyncIterator[UnitOfWorkFactory]:
    """The repository contract's three implementations: the in-memory fakes the unit
    tests use, SQLite and PostgreSQL. The same test runs on each, so they cannot drift."""
    kind, source, statements = backend
    if kind == "fake" or source is None:
        yield FakeUnitOfWorkFactory(FakeDatabase())
        return
    async with _migrated(kind, source, statements, tmp_path) as url:
        engine = create_engine(url)
        try:
            yield SqlUnitOfWorkFactory(engine)
        finally:
            await engine.dispose()


@asynccontextmanager
async def _migrated(
    kind: str, source: str, statements: list[Statement], tmp_path: Path
) -> AsyncIterator[str]:
    """A database at the newest schema: a copy of the session's migrated SQLite file, or a
    PostgreSQL schema of its own (the migrations' recorded statements sent to it), dropped
    afterwards."""
    if kind == "sqlite":
        shutil.copyfile(source, tmp_path / "paygate.db")
        yield f"sqlite+aiosqlite:///{tmp_path / 'paygate.db'}"
        return
    schema = await create_schema(source, prefix="paygate_contract_")
    try:
        url = str(make_url(source).update_query_dict({"search_path": schema}))
        await replay(url, statements)
        yield url
    finally:
        await drop_schema(source, schema)
