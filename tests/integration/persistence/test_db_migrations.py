"""Migrations: from an empty database to head on both dialects, the same schema as the
tables the code uses, safe when several workers upgrade at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from adapters.persistence import create_engine, metadata, upgrade_database, upgrade_database_async
from adapters.persistence.migrate import MIGRATIONS, alembic_config, run_in_write_transaction
from adapters.persistence.uow import SqlUnitOfWorkFactory
from application.ports.events import Announced

HEAD = "0011"
TABLES = {
    "merchants",
    "payments",
    "refunds",
    "ledger_entries",
    "settlements",
    "idempotency_keys",
    "orders",
    "events",
    "event_streams",
    "event_publisher",
    "webhook_endpoints",
    "webhook_deliveries",
    "sealing_key",
    "used_signatures",
    "operators",
    "audit_log",
    "sandbox_charges",
    "routing_rules",
    "payment_attempts",
}


async def _on(url: str, work: Any) -> Any:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _shape(conn: Connection) -> dict[str, Any]:
    """Every name a later migration could need to refer to, per table."""
    inspector = inspect(conn)
    return {
        table: (
            sorted(c["name"] for c in inspector.get_columns(table)),
            sorted(str(c["name"]) for c in inspector.get_check_constraints(table)),
            sorted(str(c["name"]) for c in inspector.get_unique_constraints(table)),
            sorted(str(c["name"]) for c in inspector.get_foreign_keys(table)),
            sorted(str(i["name"]) for i in inspector.get_indexes(table)),
        )
        for table in sorted(TABLES)
    }


async def test_upgrading_an_empty_database_reaches_head_and_can_be_repeated(
    database_url: str,
) -> None:
    await upgrade_database_async(database_url)
    await upgrade_database_async(database_url)

    names = await _on(database_url, lambda c: set(inspect(c).get_table_names()))
    assert names == TABLES | {"alembic_version"}
    assert await _on(database_url, _revision) == HEAD


@pytest.fixture
async def reference_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty sibling of `database_url`: another SQLite file, or another schema."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}"
        return
    schema = f"{url.query['search_path']}_ref"
    await _on(database_url, lambda c: (c.execute(text(f'CREATE SCHEMA "{schema}"')), c.commit()))
    try:
        yield str(url.update_query_dict({"search_path": schema}))
    finally:
        await _on(
            database_url, lambda c: (c.execute(text(f'DROP SCHEMA "{schema}" CASCADE')), c.commit())
        )


async def test_the_migrated_schema_is_the_schema_the_code_uses(
    database_url: str, reference_url: str
) -> None:
    await upgrade_database_async(database_url)
    await _on(reference_url, lambda c: (metadata.create_all(c), c.commit()))

    diffs = await _on(
        database_url,
        lambda c: compare_metadata(
            MigrationContext.configure(c, opts={"compare_type": True}), metadata
        ),
    )
    assert diffs == []
    assert await _on(database_url, _shape) == await _on(reference_url, _shape)


async def test_upgrades_started_together_in_one_process_take_turns(database_url: str) -> None:
    await asyncio.gather(*(upgrade_database_async(database_url) for _ in range(3)))

    assert await _on(database_url, _revision) == HEAD


def test_worker_processes_upgrading_at_first_start_take_turns(database_url: str) -> None:
    script = "import sys; from adapters.persistence import upgrade_database as u; u(sys.argv[1])"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, database_url], stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    errors = [worker.communicate(timeout=60)[1] for worker in workers]

    assert [w.returncode for w in workers] == [0, 0], errors

    assert asyncio.run(_on(database_url, _revision)) == HEAD


async def test_downgrading_to_nothing_and_back_works(database_url: str) -> None:
    await upgrade_database_async(database_url)

    def downgrade(conn: Connection) -> None:
        config = alembic_config(database_url)
        config.attributes["connection"] = conn
        command.downgrade(config, "base")

    engine = create_engine(database_url, poolclass=NullPool)
    try:
        await run_in_write_transaction(engine, downgrade)
    finally:
        await engine.dispose()
    assert await _on(database_url, lambda c: set(inspect(c).get_table_names())) <= {
        "alembic_version"
    }

    await upgrade_database_async(database_url)
    assert await _on(database_url, _revision) == HEAD


def test_the_blocking_upgrade_works_from_plain_code(sqlite_url: str) -> None:
    upgrade_database(sqlite_url)

    assert asyncio.run(_on(sqlite_url, _revision)) == HEAD


async def test_the_blocking_upgrade_works_inside_a_running_event_loop(sqlite_url: str) -> None:
    upgrade_database(sqlite_url)

    assert await _on(sqlite_url, _revision) == HEAD


def test_the_alembic_command_line_uses_the_packaged_migrations(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "PAYGATE_DATABASE_URL": sqlite_url}
    ini = MIGRATIONS.parent / "alembic.ini"
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ini), "upgrade", "head"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert asyncio.run(_on(sqlite_url, _revision)) == HEAD


async def test_refunds_made_before_request_keys_keep_their_rows_and_have_none(
    database_url: str,
) -> None:
    await upgrade_database_async(database_url, revision="0001")
    at = "2026-11-20 10:00:00+00:00"

    def seed(conn: Connection) -> None:
        conn.execute(text(
            "INSERT INTO merchants (merchant_id, name, api_key, api_secret_sealed,"
            " webhook_secret_sealed, fee_basis_points, fee_fixed, active, created_at)"
            f" VALUES ('mch_1', 'Shop', 'key_1', 's', 'w', 0, 0, true, '{at}')"))
        conn.execute(text(
            "INSERT INTO payments (payment_no, merchant_id, order_no, amount, currency, channel,"
            " status, refunded_amount, refund_reserved, metadata, created_at, updated_at, version)"
            " VALUES ('pay_1', 'mch_1', 'O-1', 1000, 'USD', 'sandbox', 'partially_refunded',"
            f" 400, 400, '{{}}', '{at}', '{at}', 1)"))
        conn.execute(text(
            "INSERT INTO refunds (refund_no, payment_no, merchant_id, amount, currency, status,"
            f" created_at, updated_at) VALUES ('ref_1', 'pay_1', 'mch_1', 400, 'USD',"
            f" 'succeeded', '{at}', '{at}')"))
        conn.commit()

    await _on(database_url, seed)
    await upgrade_database_async(database_url)

    rows = await _on(database_url, lambda c: c.execute(
        text("SELECT refund_no, amount, request_key FROM refunds")).all())
    assert [tuple(r) for r in rows] == [("ref_1", 400, None)]
    assert await _on(database_url, _revision) == HEAD


async def test_webhook_events_become_events_of_the_feed_and_their_deliveries(
    database_url: str,
) -> None:
    await upgrade_database_async(database_url, revision="0003")
    at, later = "2026-11-20 10:00:00+00:00", "2026-11-20 10:05:00+00:00"

    def seed(conn: Connection) -> None:
        for event_id, merchant, created, status, attempts in (
            ("evt_b", "mch_1", later, "pending", 3),
            ("evt_a", "mch_1", at, "delivered", 1),
            ("evt_c", "mch_2", at, "dead", 13),
        ):
            conn.execute(text(
                "INSERT INTO webhook_events (event_id, merchant_id, type, url, body, created_at,"
                " next_attempt_at, attempts, status, last_error, delivered_at, traceparent)"
                f" VALUES ('{event_id}', '{merchant}', 'payment.succeeded', 'https://m.example/h',"
                f" '{{\"id\":\"{event_id}\",\"type\":\"payment.succeeded\"}}', '{created}',"
                f" '{later}', {attempts}, '{status}', NULL, NULL, NULL)"))
        conn.commit()

    await _on(database_url, seed)
    await upgrade_database_async(database_url)

    events = await _on(database_url, lambda c: c.execute(text(
        "SELECT event_id, merchant_id, sequence, body FROM events ORDER BY event_id")).all())
    assert [tuple(r) for r in events] == [
        ("evt_a", "mch_1", 1, '{"sequence":1,"id":"evt_a","type":"payment.succeeded"}'),
        ("evt_b", "mch_1", 2, '{"sequence":2,"id":"evt_b","type":"payment.succeeded"}'),
        ("evt_c", "mch_2", 1, '{"sequence":1,"id":"evt_c","type":"payment.succeeded"}'),
    ]
    deliveries = await _on(database_url, lambda c: c.execute(text(
        "SELECT delivery_id, event_id, endpoint_id, url, status, attempts"
        " FROM webhook_deliveries ORDER BY event_id")).all())
    assert [tuple(r) for r in deliveries] == [
        ("dlv_a", "evt_a", None, "https://m.example/h", "delivered", 1),
        ("dlv_b", "evt_b", None, "https://m.example/h", "pending", 3),
        ("dlv_c", "evt_c", None, "https://m.example/h", "dead", 13),
    ]
    streams = await _on(database_url, lambda c: c.execute(text(
        "SELECT merchant_id, last_sequence FROM event_streams ORDER BY merchant_id")).all())
    assert [tuple(r) for r in streams] == [("mch_1", 2), ("mch_2", 1)]


def _index_definitions(conn: Connection) -> dict[str, str]:
    """Every index as the database itself spells it: partial and DESC columns included."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
        return {str(name): str(sql) for name, sql in rows.all()}
    rows = conn.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"))
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return {name: sql.replace(f"{schema}.", "") for name, sql in rows
            if not name.startswith("alembic_version")}


async def test_the_migrated_indexes_are_the_ones_the_code_declares(
    database_url: str, reference_url: str
) -> None:
    await upgrade_database_async(database_url)
    await _on(reference_url, lambda c: (metadata.create_all(c), c.commit()))

    migrated = await _on(database_url, _index_definitions)

    assert migrated == await _on(reference_url, _index_definitions)
    assert "WHERE" in migrated["uq_payments_live_order"]
    assert "DESC" in migrated["ix_payments_merchant_newest"]


async def test_payments_made_before_the_card_lifecycle_were_captured_at_once(
    database_url: str,
) -> None:
    await upgrade_database_async(database_url, revision="0003")
    at = "2026-11-20 10:00:00+00:00"

    def seed(conn: Connection) -> None:
        conn.execute(text(
            "INSERT INTO merchants (merchant_id, name, api_key, api_secret_sealed,"
            " webhook_secret_sealed, fee_basis_points, fee_fixed, active, created_at)"
            f" VALUES ('mch_1', 'Shop', 'key_1', 's', 'w', 0, 0, true, '{at}')"))
        for payment_no, order_no, status, refunded in (
            ("pay_1", "O-1", "partially_refunded", 400),
            ("pay_2", "O-2", "failed", 0),
            ("pay_3", "O-3", "processing", 0),
        ):
            conn.execute(text(
                "INSERT INTO payments (payment_no, merchant_id, order_no, amount, currency,"
                " channel, status, refunded_amount, refund_reserved, metadata, created_at,"
                f" updated_at, version) VALUES ('{payment_no}', 'mch_1', '{order_no}', 1000,"
                f" 'USD', 'sandbox', '{status}', {refunded}, {refunded}, '{{}}', '{at}',"
                f" '{at}', 1)"))
        conn.execute(text(
            "INSERT INTO refunds (refund_no, payment_no, merchant_id, amount, currency, status,"
            f" created_at, updated_at) VALUES ('ref_1', 'pay_1', 'mch_1', 400, 'USD',"
            f" 'succeeded', '{at}', '{at}')"))
        conn.commit()

    await _on(database_url, seed)
    await upgrade_database_async(database_url)

    rows = await _on(database_url, lambda c: c.execute(text(
        "SELECT payment_no, capture_method, amount_captured, pending_move FROM payments"
        " ORDER BY payment_no")).all())
    assert [tuple(r) for r in rows] == [
        ("pay_1", "automatic", 1000, None),
        ("pay_2", "automatic", 0, None),
        ("pay_3", "automatic", 0, None),
    ]
    refunds = await _on(database_url, lambda c: c.execute(
        text("SELECT refund_no, payment_no, amount FROM refunds")).all())
    assert [tuple(r) for r in refunds] == [("ref_1", "pay_1", 400)]


async def _downgrade_to(url: str, revision: str) -> None:
    def downgrade(conn: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = conn
        command.downgrade(config, revision)

    engine = create_engine(url, poolclass=NullPool)
    try:
        await run_in_write_transaction(engine, downgrade)
    finally:
        await engine.dispose()


async def test_waiting_outbox_rows_move_onto_their_payments_in_order_and_back(
    database_url: str,
) -> None:
    """0011: each waiting outbox row becomes a line of its payment's unpublished entries
    (a refund's events name their payment), read back by the publisher's repository in
    the order written; downgraded, they are outbox rows again, and no index lost its
    predicate on the way."""
    await upgrade_database_async(database_url, revision="0010")
    indexes_before = await _on(database_url, _index_definitions)
    sqlite = database_url.startswith("sqlite")
    first, second = (("2026-11-20 10:00:00.000000", "2026-11-20 10:05:00.000000") if sqlite
                     else ("2026-11-20 10:00:00+00", "2026-11-20 10:05:00+00"))
    written = [  # in the order written: (payment, time, events, traceparent)
        ("pay_1", first, '[{"id":"evt_1","type":"payment.succeeded","data":{"payment_no":'
         '"pay_1"},"notify":true}]', "00-aa-bb-01"),
        ("pay_2", first, '[{"id":"evt_2","type":"payment.failed","data":{"payment_no":'
         '"pay_2"},"notify":false}]', None),
        ("pay_1", second, '[{"id":"evt_3","type":"refund.succeeded","data":{"refund_no":'
         '"ref_1","payment_no":"pay_1","reason":"one\u2028two"},"notify":false}]', None),
    ]

    def seed(conn: Connection) -> None:
        conn.execute(text(
            "INSERT INTO merchants (merchant_id, name, api_key, api_secret_sealed,"
            " webhook_secret_sealed, fee_basis_points, fee_fixed, active, created_at)"
            f" VALUES ('mch_1', 'Shop', 'key_1', 's', 'w', 0, 0, true, '{first}')"))
        for payment_no, notify_url in (("pay_1", "'https://m.example/h'"), ("pay_2", "NULL"),
                                       ("pay_3", "NULL")):
            conn.execute(text(
                "INSERT INTO payments (payment_no, merchant_id, order_no, amount, currency,"
                " channel, status, refunded_amount, refund_reserved, metadata, notify_url,"
                f" created_at, updated_at, version) VALUES ('{payment_no}', 'mch_1',"
                f" 'O-{payment_no}', 1000, 'USD', 'sandbox', 'succeeded', 0, 0, '{{}}',"
                f" {notify_url}, '{first}', '{first}', 1)"))
        for _, at, events, traceparent in written:
            conn.execute(text(
                "INSERT INTO outbox (merchant_id, events, notify_url, created_at, traceparent)"
                f" VALUES ('mch_1', :events, NULL, '{at}', :traceparent)"),
                {"events": events, "traceparent": traceparent})
        conn.commit()

    await _on(database_url, seed)
    await upgrade_database_async(database_url)

    engine = create_engine(database_url, poolclass=NullPool)
    try:
        async with SqlUnitOfWorkFactory(engine)(read_only=True) as uow:
            entries = await uow.outbox.oldest(10)
            since = await uow.outbox.oldest_created_at()
    finally:
        await engine.dispose()
    assert [(e.position[0] if e.position else None, [a.event_id for a in e.events],
             e.traceparent, e.notify_url) for e in entries] == [
        ("pay_1", ["evt_1"], "00-aa-bb-01", "https://m.example/h"),
        ("pay_1", ["evt_3"], None, "https://m.example/h"),
        ("pay_2", ["evt_2"], None, None),
    ]
    assert entries[0].events[0] == Announced("evt_1", "payment.succeeded",
                                             {"payment_no": "pay_1"}, True)
    assert [e.created_at for e in entries] == [
        datetime(2026, 11, 20, 10, 0, tzinfo=UTC), datetime(2026, 11, 20, 10, 5, tzinfo=UTC),
        datetime(2026, 11, 20, 10, 0, tzinfo=UTC)]
    assert since == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

    await _downgrade_to(database_url, "0010")
    rows = await _on(database_url, lambda c: c.execute(text(
        "SELECT merchant_id, events, traceparent FROM outbox ORDER BY entry_id")).all())
    assert sorted(tuple(r) for r in rows) == sorted(("mch_1", e, t) for _, _, e, t in written)
    assert await _on(database_url, _index_definitions) == indexes_before
    await upgrade_database_async(database_url)
    assert await _on(database_url, _revision) == HEAD
