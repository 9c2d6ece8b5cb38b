"""An update sends the columns that changed since this process committed that version of
the payment, and every column otherwise (docs/adr/0034), on SQLite and PostgreSQL: what
it remembers is never taken for the database's row when it is not."""

from __future__ import annotations

from typing import Any

import pytest
from db_builders import merchant, payment
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import SqlUnitOfWorkFactory, driver
from adapters.persistence.payments import MUTABLE
from domain.payment import Payment

pytestmark = pytest.mark.usefixtures("migrated_url")


@pytest.fixture
def updates(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """The columns each payment `UPDATE` sets, besides the version."""
    sent: list[set[str]] = []
    execute = driver.execute

    async def noted(conn: Any, dialect: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if str(statement).startswith("UPDATE payments"):
            params = statement.compile(dialect=dialect).params
            sent.append({name for name in params if name in MUTABLE})
        return await execute(conn, dialect, statement, *args, **kwargs)

    monkeypatch.setattr(driver, "execute", noted)
    return sent


async def _add(units: SqlUnitOfWorkFactory, p: Payment) -> None:
    async with units() as uow:
        await uow.merchants.add(merchant())
        await uow.payments.add(p)
        await uow.commit()


async def _update(units: SqlUnitOfWorkFactory, p: Payment) -> None:
    async with units() as uow:
        await uow.payments.update(p)
        await uow.commit()


async def _read(units: SqlUnitOfWorkFactory, payment_no: str) -> Payment:
    async with units(read_only=True) as uow:
        loaded = await uow.payments.get(payment_no)
    assert loaded is not None
    return loaded


async def test_an_update_after_the_insert_sets_only_what_changed(
    uow_factory: SqlUnitOfWorkFactory, updates: list[set[str]]
) -> None:
    p = payment()
    await _add(uow_factory, p)
    p.failure_message, p.payment_token = "note", "tok_1"
    await _update(uow_factory, p)
    p.payment_token = "tok_2"
    await _update(uow_factory, p)

    assert updates == [{"failure_message", "payment_token"}, {"payment_token"}]
    assert await _read(uow_factory, p.payment_no) == p


async def test_a_payment_this_process_did_not_write_is_updated_in_full(
    engine: AsyncEngine, updates: list[set[str]]
) -> None:
    ours, theirs = SqlUnitOfWorkFactory(engine), SqlUnitOfWorkFactory(engine)
    p = payment()
    await _add(theirs, p)
    loaded = await _read(ours, p.payment_no)
    loaded.payment_token = "tok_1"
    await _update(ours, loaded)

    assert updates == [set(MUTABLE)]
    assert await _read(ours, p.payment_no) == loaded


async def test_another_writers_version_is_not_taken_for_the_remembered_one(
    engine: AsyncEngine, updates: list[set[str]]
) -> None:
    """Here the value written is the one remembered, so a diff against the memory would
    leave the other writer's value in the row."""
    ours, theirs = SqlUnitOfWorkFactory(engine), SqlUnitOfWorkFactory(engine)
    p = payment(payment_token="tok_a")
    await _add(ours, p)
    other = await _read(theirs, p.payment_no)
    other.payment_token = "tok_b"
    await _update(theirs, other)
    mine = await _read(ours, p.payment_no)
    mine.payment_token = "tok_a"
    await _update(ours, mine)

    assert (await _read(ours, p.payment_no)).payment_token == "tok_a"
    assert updates[-1] == set(MUTABLE)


async def test_a_rolled_back_update_is_not_remembered(
    engine: AsyncEngine, updates: list[set[str]]
) -> None:
    """Our rolled-back write and the other writer's commit share a version number: only a
    memory of what committed tells them apart."""
    ours, theirs = SqlUnitOfWorkFactory(engine), SqlUnitOfWorkFactory(engine)
    p = payment()
    await _add(ours, p)
    async with ours() as uow:
        p.payment_token = "tok_b"
        await uow.payments.update(p)  # never committed
    other = await _read(theirs, p.payment_no)
    other.payment_token = "tok_c"
    await _update(theirs, other)
    mine = await _read(ours, p.payment_no)
    assert mine.version == p.version  # the same version number, another row
    mine.payment_token = "tok_b"
    await _update(ours, mine)

    assert (await _read(ours, p.payment_no)).payment_token == "tok_b"
