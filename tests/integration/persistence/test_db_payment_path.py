"""What an automatic payment costs the database: seven statements in two transactions, the
five of docs/adr/0008 and each transaction's outbox row (docs/adr/0020), whatever the card
lifecycle added around it (docs/adr/0014); and the sandbox's one record of its charge,
committing in a unit of its own (migration 0009)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from adapters.persistence import driver
from application.commands import CreateMerchantCommand, CreatePaymentCommand
from domain.card import CardDetails
from entrypoints.container import build_container, close_container
from entrypoints.settings import Settings

pytestmark = pytest.mark.usefixtures("migrated_url")


async def test_an_automatic_payment_is_seven_statements_in_two_transactions(
    migrated_url: str, master_key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=migrated_url, master_key_file=master_key_file,
                        tracing=False, metrics=False, worker=False)
    container = build_container(settings)
    outside: Counter[str] = Counter()  # statements SQLAlchemy sends, outside units of work
    sent: Counter[str] = Counter()
    execute, control = driver.execute, driver.control

    async def counted_execute(conn: Any, dialect: Any, statement: Any, *args: Any,
                              **kwargs: Any) -> Any:
        sent[f"{str(statement).split(None, 1)[0]} {statement.table.name}"] += 1
        return await execute(conn, dialect, statement, *args, **kwargs)

    async def counted_control(conn: Any, call: Any, verb: str) -> Any:
        sent[verb] += 1
        return await control(conn, call, verb)

    try:
        merchant = await container.use_cases.create_merchant()(CreateMerchantCommand(name="m"))
        monkeypatch.setattr(driver, "execute", counted_execute)
        monkeypatch.setattr(driver, "control", counted_control)

        def counted_outside(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
            outside[" ".join(sql.split()[:3])] += 1

        engine = container.core.engine()
        event.listen(engine.sync_engine, "before_cursor_execute", counted_outside)
        payment = await container.use_cases.create_payment()(CreatePaymentCommand(
            merchant_id=merchant.merchant.merchant_id, order_no="O-1", amount=1_000,
            currency="USD", channel="sandbox",
            card=CardDetails("4242424242424242", 12, 2030, "123")))
    finally:
        await close_container(container)

    assert payment.status.value == "succeeded"
    assert sent == Counter({
        "BEGIN": 2, "COMMIT": 2, "INSERT payments": 1, "INSERT orders": 1,
        "UPDATE payments": 1, "INSERT ledger_entries": 1, "UPDATE orders": 1,
        "INSERT outbox": 2,  # each transaction's events (docs/adr/0020)
    }) + Counter({  # the sandbox acquirer's record of its charge, a unit of its own
        "BEGIN": 1, "INSERT sandbox_charges": 1, "COMMIT": 1,
    })
    assert outside == {}
