"""Every class of database or driver error, raised at each statement of a payment and of a
refund: the answer is what the database holds (docs/adr/0028).

A `201` names a payment (or refund) whose row exists with the status it answered; a `503
unavailable` left no row; nothing is ever a `500`. The statements are counted where they
are sent: the units of work's driver calls (`driver.execute`, and BEGIN/COMMIT through
`driver.control`) and everything SQLAlchemy sends (the engine's `before_cursor_execute`
event). Each run raises at the next statement, until a request sends fewer statements
than the one chosen.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
from http_harness import Api, ApiFactory, Keys, payment_body
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from adapters.persistence import create_engine, driver
from adapters.persistence.driver_errors import wrapped

ERRORS: dict[str, Callable[[str], BaseException]] = {
    "operational": lambda sql: exc.OperationalError(sql, None, Exception("injected")),
    "integrity": lambda sql: exc.IntegrityError(sql, None, Exception("injected")),
    "interface": lambda sql: exc.InterfaceError(sql, None, Exception("connection is closed")),
    "connection_lost": lambda sql: ConnectionResetError("injected: connection reset"),
    "timeout": lambda sql: TimeoutError("injected"),
    "asyncpg_serialization": lambda sql: wrapped(
        asyncpg.exceptions.SerializationError("injected"), sql, None),
    "asyncpg_data": lambda sql: wrapped(
        asyncpg.exceptions.InvalidTextRepresentationError("injected"), sql, None),
    "asyncpg_connection_gone": lambda sql: wrapped(
        asyncpg.exceptions.ConnectionDoesNotExistError("injected"), sql, None),
    "runtime": lambda sql: RuntimeError("injected"),
}
MAX_STATEMENTS = 60  # a request sending more is a finding of its own


class Faults:
    """Counts the statements sent and raises `error` at the `at`-th (None: never)."""

    def __init__(self) -> None:
        self.at: int | None = None
        self.error: Callable[[str], BaseException] = ERRORS["runtime"]
        self.sent: list[str] = []

    def arm(self, at: int | None, error: Callable[[str], BaseException]) -> None:
        self.at, self.error, self.sent = at, error, []

    def step(self, sql: str) -> None:
        self.sent.append(sql)
        if self.at is not None and len(self.sent) == self.at:
            raise self.error(sql)


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Faults:
    injected = Faults()
    real_execute, real_control = driver.execute, driver.control

    async def execute(conn: Any, dialect: Any, statement: Any, params: Any = None,
                      *, writable: bool = True) -> Any:
        injected.step(str(statement).split("\n")[0][:60])
        return await real_execute(conn, dialect, statement, params, writable=writable)

    async def control(conn: Any, command: Any, sql: str) -> None:
        async def sent() -> None:  # the fault comes from the driver's own call
            injected.step(sql)
            await command()

        await real_control(conn, sent, sql)

    monkeypatch.setattr(driver, "execute", execute)
    monkeypatch.setattr(driver, "control", control)
    return injected


async def _app(open_api: ApiFactory, url: str, faults: Faults) -> tuple[Api, AsyncEngine]:
    api = await open_api(url)
    engine: AsyncEngine = api.container.core.engine()

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        faults.step(statement.split("\n")[0][:60])

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    return api, create_engine(url, poolclass=NullPool)


async def _rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(text(sql), params))


def _answered_written(response: httpx.Response) -> bool:
    assert response.status_code in (201, 503), (response.status_code, response.text)
    if response.status_code == 503:
        assert response.json()["error"]["code"] == "unavailable", response.text
    return response.status_code == 201


@pytest.mark.parametrize("error", sorted(ERRORS))
async def test_a_payment_failing_at_any_statement_is_answered_as_the_database_holds_it(
    open_api: ApiFactory, any_db_url: str, faults: Faults, error: str
) -> None:
    api, db = await _app(open_api, any_db_url, faults)
    try:
        keys = await api.new_merchant(f"Faults {error}")
        seen: dict[int, int] = {}
        for at in range(1, MAX_STATEMENTS):
            order_no = f"FAULT-{at}-{uuid.uuid4().hex[:6]}"
            faults.arm(at, ERRORS[error])
            response = await api.call(keys, "POST", "/api/v1/payments",
                                      payment_body(order_no, 1_000),
                                      headers={"Idempotency-Key": f"k-{order_no}"})
            sent = list(faults.sent)
            faults.arm(None, ERRORS[error])
            rows = await _rows(db, "SELECT payment_no, status FROM payments "
                               "WHERE merchant_id = :m AND order_no = :o",
                               m=keys.merchant_id, o=order_no)
            if _answered_written(response):
                body = response.json()
                assert [(r.payment_no, r.status) for r in rows] == [
                    (body["payment_no"], body["status"])], (at, sent[at - 1:at])
            else:
                assert rows == [], (at, sent[at - 1:at])
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            if len(sent) < at:  # the request sent fewer statements: every one was hit
                break
        else:
            pytest.fail(f"a payment sent {MAX_STATEMENTS} statements or more")
    finally:
        await db.dispose()
    # both kinds of answer were given: faults before the pending write and after it
    assert seen.get(503), seen
    assert seen.get(201), seen


@pytest.mark.parametrize("error", sorted(ERRORS))
async def test_a_refund_failing_at_any_statement_is_answered_as_the_database_holds_it(
    open_api: ApiFactory, any_db_url: str, faults: Faults, error: str
) -> None:
    api, db = await _app(open_api, any_db_url, faults)
    try:
        keys: Keys = await api.new_merchant(f"Refund faults {error}")
        seen: dict[int, int] = {}
        for at in range(1, MAX_STATEMENTS):
            paid = await api.pay(keys, f"RFAULT-{at}-{uuid.uuid4().hex[:6]}", amount=2_000)
            faults.arm(at, ERRORS[error])
            response = await api.refund(keys, paid["payment_no"], {"amount": 500},
                                        headers={"Idempotency-Key": f"r-{uuid.uuid4().hex}"})
            sent = list(faults.sent)
            faults.arm(None, ERRORS[error])
            rows = await _rows(db, "SELECT refund_no, status FROM refunds WHERE payment_no = :p",
                               p=paid["payment_no"])
            if _answered_written(response):
                body = response.json()
                assert [(r.refund_no, r.status) for r in rows] == [
                    (body["refund_no"], body["status"])], (at, sent[at - 1:at])
            else:
                assert rows == [], (at, sent[at - 1:at])
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            if len(sent) < at:
                break
        else:
            pytest.fail(f"a refund sent {MAX_STATEMENTS} statements or more")
    finally:
        await db.dispose()
    assert seen.get(503), seen
    assert seen.get(201), seen
