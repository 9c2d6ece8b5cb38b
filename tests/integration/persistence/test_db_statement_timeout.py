"""A PostgreSQL statement that does not finish in time fails as `Unavailable`, changes
nothing, and never leaves a request waiting on the database for ever.

Two ways a statement can hang, two bounds:

- the server is there but the statement waits (a lock held elsewhere, a slow plan): the
  server's `statement_timeout` cancels it, the transaction rolls back, the connection
  stays good;
- the server stops answering (a dead host, a dropped network path: nothing closes the
  socket): the watchdog, a little later, gives up on the client side and closes the
  connection, which can no longer be trusted, rather than pooling it.

Each test bounds its wait with `asyncio.wait_for(…, 30)`: if the timeout did not work,
the test fails there instead of hanging. No test asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import SqlIdempotencyStore, SqlUnitOfWorkFactory
from adapters.persistence.engine import ping
from adapters.persistence.errors import sqlstate
from application.errors import Unavailable
from domain.payment import PaymentStatus
from entrypoints.container import build_container, close_container
from entrypoints.settings import Settings
from tests.integration.persistence.conftest import Seed
from tests.integration.persistence.db_builders import T0, merchant, payment

pytestmark = pytest.mark.postgres
NEVER = 30.0  # seconds: a bound for the test itself, far beyond any timeout configured


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


class FreezableProxy:
    """A TCP relay to PostgreSQL that can stop relaying without closing anything: what a
    dead host or a dropped network path looks like from the client."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._thawed = asyncio.Event()
        self._thawed.set()
        self.port = 0

    async def start(self) -> int:
        """Listen on a free port of 127.0.0.1, and return it."""
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    def freeze(self) -> None:
        self._thawed.clear()

    def thaw(self) -> None:
        self._thawed.set()

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_in, server_out = await asyncio.open_connection(*self._target)
        self._writers += [client_out, server_out]
        await asyncio.gather(
            self._pump(client_in, server_out), self._pump(server_in, client_out),
            return_exceptions=True,
        )

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                await self._thawed.wait()  # frozen: the bytes go nowhere, nobody is told
                sink.write(chunk)
                await sink.drain()
        finally:
            sink.close()


@pytest.fixture
async def proxy(postgres_server: str) -> AsyncIterator[FreezableProxy]:
    url = make_url(postgres_server)
    relay = FreezableProxy((url.host or "127.0.0.1", url.port or 5432))
    await relay.start()
    yield relay
    relay.thaw()
    await relay.close()


@pytest.fixture
def relayed(
    engine_factory: Callable[..., AsyncEngine], migrated_url: str, proxy: FreezableProxy
) -> AsyncEngine:
    """An engine reaching PostgreSQL through the relay: one connection, 0.2 s statements."""
    url = str(make_url(migrated_url).set(host="127.0.0.1", port=proxy.port))
    return engine_factory(statement_timeout=0.2, pool_size=1, url=url)


@contextlib.asynccontextmanager
async def row_locked(url: str, payment_no: str) -> AsyncIterator[None]:
    """The payment's row locked by another session until the block ends."""
    sa_url = make_url(url)
    conn = await asyncpg.connect(
        host=sa_url.host, port=sa_url.port, user=sa_url.username, database=sa_url.database,
        server_settings={"search_path": str(sa_url.query["search_path"])},
    )
    try:
        async with conn.transaction():
            await conn.execute(
                "SELECT 1 FROM payments WHERE payment_no = $1 FOR UPDATE", payment_no)
            yield
    finally:
        await conn.close()


async def test_a_statement_waiting_past_the_statement_timeout_is_unavailable_and_changes_nothing(
    engine_factory: Callable[..., AsyncEngine], migrated_url: str, seed: Seed,
) -> None:
    engine = engine_factory(statement_timeout=0.3, pool_size=1)
    units = SqlUnitOfWorkFactory(engine)
    stored = payment()
    await seed(merchant(), stored)
    stored.start_processing(T0)

    async def update() -> None:
        async with units() as uow:
            await uow.payments.update(stored)
            await uow.commit()

    async with row_locked(migrated_url, stored.payment_no):
        with pytest.raises(Unavailable) as raised:
            await asyncio.wait_for(update(), NEVER)
    assert sqlstate(raised.value.__cause__) == "57014"  # the server's cancel (query_canceled)

    async with units(read_only=True) as uow:  # the one pooled connection is still good
        unchanged = await uow.payments.get(stored.payment_no)
    assert unchanged is not None
    assert unchanged.status is PaymentStatus.PENDING


async def test_a_unit_of_work_on_a_server_that_stopped_answering_is_unavailable(
    relayed: AsyncEngine, proxy: FreezableProxy, seed: Seed,
) -> None:
    units = SqlUnitOfWorkFactory(relayed)
    stored = payment()
    await seed(merchant(), stored)

    async def read() -> Any:
        async with units(read_only=True) as uow:
            return await uow.payments.get(stored.payment_no)

    assert await read() is not None  # the pooled connection is open, through the relay
    proxy.freeze()
    with pytest.raises(Unavailable):
        await asyncio.wait_for(read(), NEVER)
    proxy.thaw()
    found = await asyncio.wait_for(read(), NEVER)  # a new connection: the old one was dropped
    assert found is not None
    assert found.payment_no == stored.payment_no


async def test_a_write_on_a_server_that_stopped_answering_is_unavailable(
    relayed: AsyncEngine, proxy: FreezableProxy, seed: Seed,
) -> None:
    units = SqlUnitOfWorkFactory(relayed)
    stored = payment()
    await seed(merchant(), stored)
    stored.start_processing(T0)

    async def update() -> None:
        async with units() as uow:
            proxy.freeze()  # after BEGIN: the update never gets an answer
            await uow.payments.update(stored)
            await uow.commit()

    with pytest.raises(Unavailable):
        await asyncio.wait_for(update(), NEVER)
    proxy.thaw()
    async with units(read_only=True) as uow:
        unchanged = await asyncio.wait_for(uow.payments.get(stored.payment_no), NEVER)
    assert unchanged is not None
    assert unchanged.status is PaymentStatus.PENDING


async def test_sqlalchemy_connections_on_a_server_that_stopped_answering_are_unavailable(
    relayed: AsyncEngine, proxy: FreezableProxy,
) -> None:
    store = SqlIdempotencyStore(relayed)
    await store.release("mer_1", "warm-up")  # the pooled connection is open
    proxy.freeze()
    with pytest.raises(Unavailable):
        await asyncio.wait_for(store.begin("mer_1", "key-1", "fp", T0), NEVER)
    proxy.thaw()
    assert await asyncio.wait_for(store.begin("mer_1", "key-1", "fp", T0), NEVER) is None


async def test_a_ping_is_its_one_statement_with_nothing_after_the_answer(
    relayed: AsyncEngine, proxy: FreezableProxy,
) -> None:
    """What the readiness probe sends. A ROLLBACK when the connection goes back to the pool
    (after a BEGIN around the SELECT) is sent by the pool, where no statement event sees
    it, and SQLAlchemy shields that return from cancellation: a server that stopped
    answering right then held the probe past any `wait_for` (so this test waits with
    `asyncio.wait`, which does not cancel, and lets the relay go on afterwards)."""
    await ping(relayed)  # the pooled connection is open

    def freeze_once_answered(*_: Any) -> None:
        proxy.freeze()

    event.listen(relayed.sync_engine, "after_cursor_execute", freeze_once_answered)
    probe = asyncio.ensure_future(ping(relayed))
    try:
        done, _ = await asyncio.wait({probe}, timeout=NEVER)
    finally:
        event.remove(relayed.sync_engine, "after_cursor_execute", freeze_once_answered)
        proxy.thaw()
    assert done == {probe}, "the ping still waits after its answer"
    probe.result()
    proxy.freeze()
    with pytest.raises(DBAPIError):  # the next ping meets the silent server: closed
        await asyncio.wait_for(ping(relayed), NEVER)


async def test_the_statement_timeout_is_the_sessions_setting(
    engine_factory: Callable[..., AsyncEngine],
) -> None:
    # bounds far above any stall of a loaded test server: only the setting is read here
    timed = engine_factory(statement_timeout=42.5)
    untimed = engine_factory()
    async with timed.connect() as conn:
        assert (await conn.execute(text("SHOW statement_timeout"))).scalar() == "42500ms"
    async with untimed.connect() as conn:
        assert (await conn.execute(text("SHOW statement_timeout"))).scalar() == "0"


async def test_the_gateway_bounds_its_statements_as_its_settings_say(migrated_url: str) -> None:
    settings = Settings.from_env({"PAYGATE_DATABASE_URL": migrated_url,
                                  "PAYGATE_DATABASE_STATEMENT_TIMEOUT": "45.5"})
    container = build_container(settings)
    try:
        async with container.core.engine().connect() as conn:
            assert (await conn.execute(text("SHOW statement_timeout"))).scalar() == "45500ms"
    finally:
        await close_container(container)
    assert Settings().database_statement_timeout == 5.0  # bounded unless told otherwise
