"""One payment through the real container, counting what it sends to the database."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.pool import NullPool

from adapters.persistence import SqlUnitOfWorkFactory, create_engine, driver
from application.commands import CreateMerchantCommand, CreatePaymentCommand
from application.ports.events import OutboxEntry
from domain.card import CardDetails
from domain.routing import RoutingRule
from entrypoints.container import build_container, close_container
from entrypoints.settings import Settings

CARD = CardDetails("4242424242424242", 12, 2030, "123")


def sandbox_record(url: str) -> Counter[str]:
    """One statement committing on its own on PostgreSQL; on SQLite in a transaction, whose
    COMMIT runs on aiosqlite's thread (docs/adr/0033)."""
    if url.startswith("postgresql"):
        return Counter({"INSERT sandbox_charges": 1})
    return Counter({"BEGIN": 1, "INSERT sandbox_charges": 1, "COMMIT": 1})


async def payment_statements(
    url: str, key_file: Path, monkeypatch: pytest.MonkeyPatch, channel: str | None,
    rules: list[RoutingRule] | None = None, programs: list[str] | None = None,
) -> tuple[Any, Counter[str]]:
    """The payment, and the statements it sent by verb and table (their SQL in
    `programs`, when given)."""
    settings = Settings(database_url=url, master_key_file=key_file,
                        tracing=False, metrics=False, worker=False)
    container = build_container(settings)
    sent: Counter[str] = Counter()
    execute, control = driver.execute, driver.control

    async def counted_execute(conn: Any, dialect: Any, statement: Any, *args: Any,
                              **kwargs: Any) -> Any:
        table = getattr(statement, "table", None)
        if table is None:  # a SELECT: its one table
            (table,) = statement.get_final_froms()
        sent[f"{str(statement).split(None, 1)[0]} {table.name}"] += 1
        if programs is not None:
            programs.append(str(statement.compile(dialect=dialect)))
        return await execute(conn, dialect, statement, *args, **kwargs)

    async def counted_control(conn: Any, call: Any, verb: str) -> Any:
        sent[verb] += 1
        return await control(conn, call, verb)

    try:
        merchant = await container.use_cases.create_merchant()(CreateMerchantCommand(name="m"))
        merchant_id = merchant.merchant.merchant_id
        if rules is not None:
            await container.use_cases.set_routing()(merchant_id, rules)
        monkeypatch.setattr(driver, "execute", counted_execute)
        monkeypatch.setattr(driver, "control", counted_control)
        payment = await container.use_cases.create_payment()(CreatePaymentCommand(
            merchant_id=merchant_id, order_no="O-1", amount=1_000,
            currency="USD", channel=channel, card=CARD))
    finally:
        await close_container(container)
    return payment, sent


async def waiting_entries(url: str) -> list[OutboxEntry]:
    """The outbox entries waiting for the publisher, as it would read them."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with SqlUnitOfWorkFactory(engine)(read_only=True) as uow:
            return await uow.outbox.oldest(100)
    finally:
        await engine.dispose()
