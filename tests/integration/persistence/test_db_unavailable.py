"""A database that cannot be reached surfaces as `Unavailable` (HTTP 503), never as a
driver exception, from every entry point of the persistence adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.order.local import LocalOrderBook
from adapters.persistence import (
    SqlIdempotencyStore,
    SqlUnitOfWorkFactory,
    create_engine,
    upgrade_database_async,
)
from application.errors import Unavailable
from application.ports.external import OrderRequest
from domain.money import Money

NOW = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def unreachable_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":  # a file in a directory that does not exist
        return f"sqlite+aiosqlite:///{tmp_path}/missing-dir/paygate.db"
    return "postgresql+asyncpg://postgres@127.0.0.1:1/paygate"  # nothing listens on port 1


@pytest.fixture
async def dead_engine(unreachable_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(unreachable_url, pool_timeout=2)
    yield engine
    await engine.dispose()


@pytest.fixture(autouse=True)
async def _quiet_aiosqlite_threads() -> AsyncIterator[None]:
    """After a failed connect aiosqlite stops its worker thread by posting back to this
    event loop; give the thread the moment it needs before the test's loop closes."""
    yield
    await asyncio.sleep(0.05)


async def test_opening_a_unit_of_work_is_unavailable(dead_engine: AsyncEngine) -> None:
    with pytest.raises(Unavailable) as raised:
        async with SqlUnitOfWorkFactory(dead_engine)():
            pass
    assert raised.value.code == "unavailable"


async def test_a_read_only_unit_is_unavailable_too(dead_engine: AsyncEngine) -> None:
    with pytest.raises(Unavailable):
        async with SqlUnitOfWorkFactory(dead_engine)(read_only=True):
            pass


async def test_the_idempotency_store_is_unavailable(dead_engine: AsyncEngine) -> None:
    store = SqlIdempotencyStore(dead_engine)
    with pytest.raises(Unavailable):
        await store.begin("mer_1", "key", "fp", NOW)
    with pytest.raises(Unavailable):
        await store.release("mer_1", "key")


async def test_the_order_book_is_unavailable(dead_engine: AsyncEngine) -> None:
    request = OrderRequest("mer_1", "ORDER-1", "pay_1", Money(100, "USD"))
    with pytest.raises(Unavailable):
        await LocalOrderBook(dead_engine).create_order(request)


async def test_upgrading_is_unavailable(unreachable_url: str) -> None:
    with pytest.raises(Unavailable):
        await upgrade_database_async(unreachable_url)
