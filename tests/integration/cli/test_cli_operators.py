"""The CLI names who acts: every state-changing command needs --operator (or
PAYGATE_OPERATOR), holds that operator to its role and writes one audit row; `operators`
makes named tokens and `audit list` reads the trail. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cli_harness import CARD_REVIEW, Paygate, assert_clean_failure
from sqlalchemy import func, select
from sqlalchemy.pool import NullPool

from adapters.persistence import SqlUnitOfWorkFactory, create_engine, upgrade_database_async
from adapters.persistence.schema import audit_log, operators
from application.ports.events import DeliveryStatus, WebhookDelivery
from domain.authorization import CaptureMethod
from domain.operator import token_hash

YESTERDAY = datetime.now(UTC) - timedelta(days=1)
NEW_KEY = base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
async def any_db(database_url: str, cli_env: dict[str, str]) -> dict[str, str]:
    await upgrade_database_async(database_url)
    env = {**cli_env, "PAYGATE_DATABASE_URL": database_url}
    del env["PAYGATE_OPERATOR"]
    return env


def _rows(pg: Paygate, table: Any = audit_log) -> list[Any]:
    async def read() -> list[Any]:
        engine = create_engine(pg.settings().database_url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return list(await conn.execute(select(table)))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _count(pg: Paygate) -> int:
    async def count() -> int:
        engine = create_engine(pg.settings().database_url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(
                    select(func.count()).select_from(audit_log))).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(count())


def _dead_delivery(pg: Paygate, merchant_id: str) -> str:
    async def add() -> None:
        engine = create_engine(pg.settings().database_url, poolclass=NullPool)
        now = datetime.now(UTC)
        try:
            async with SqlUnitOfWorkFactory(engine)() as uow:
                await uow.deliveries.add([WebhookDelivery(
                    delivery_id="dlv_cli", event_id="evt_cli", merchant_id=merchant_id,
                    type="payment.succeeded", endpoint_id=None, url="https://hooks.example/x",
                    created_at=now, next_attempt_at=now, attempts=12,
                    status=DeliveryStatus.DEAD)])
                await uow.commit()
        finally:
            await engine.dispose()

    asyncio.run(add())
    return "evt_cli"


Setup = Callable[[Paygate, str], list[str]]


def _commands(pg: Paygate, merchant_id: str) -> dict[str, tuple[list[str], str]]:
    """Each state-changing command, ready to run, with the action its row must name."""
    review = pg.take_payment(merchant_id, "O-R", card=CARD_REVIEW)["payment_no"]
    held = [pg.take_payment(merchant_id, f"O-H{n}", capture_method=CaptureMethod.MANUAL)
            ["payment_no"] for n in range(2)]
    paid = pg.take_payment(merchant_id, "O-P")["payment_no"]
    pg.take_payment(merchant_id, "O-Y", at=YESTERDAY)
    event_id = _dead_delivery(pg, merchant_id)
    return {
        "operators create": (["operators", "create", "--name", "carol", "--role", "viewer"],
                             "operator.create"),
        "operators disable": (["operators", "disable", "viewer-1", "--reason", "left"],
                              "operator.disable"),
        "merchants create": (["merchants", "create", "--name", "Beta"], "merchant.create"),
        "merchants disable": (["merchants", "disable", merchant_id], "merchant.disable"),
        "merchants enable": (["merchants", "enable", merchant_id], "merchant.enable"),
        "merchants routing set": (["merchants", "routing", "set", merchant_id, "--rules",
                                   '{"rules": [{"channels": ["sandbox"]}]}'],
                                  "merchant.routing"),
        "payments review": (["payments", "review", review, "--reject", "--note", "fraud"],
                            "payment.review"),
        "payments capture": (["payments", "capture", held[0], "--amount", "100"],
                             "payment.capture"),
        "payments cancel": (["payments", "cancel", held[1], "--reason", "gone"],
                            "payment.cancel"),
        "refunds create": (["refunds", "create", paid, "--amount", "100"], "payment.refund"),
        "settle": (["settle", "--merchant", merchant_id, "--date",
                    YESTERDAY.date().isoformat()], "settlement.run"),
        "webhooks retry": (["webhooks", "retry", event_id], "webhook.retry"),
    }


def _operators(pg: Paygate) -> dict[str, str]:
    tokens = {}
    for role in ("viewer", "operator", "admin"):
        made = pg.json("operators", "create", "--name", f"{role}-1", "--role", role,
                       "--operator", "bootstrap")
        tokens[role] = made["token"]
    return tokens


def test_every_state_changing_command_writes_one_row_naming_its_operator(
    any_db: dict[str, str],
) -> None:
    pg = Paygate(any_db)
    _operators(pg)
    merchant_id = pg.json("merchants", "create", "--name", "Acme", "--operator", "admin-1")[
        "merchant_id"]
    commands = _commands(pg, merchant_id)

    for name, (args, action) in commands.items():
        who = "admin-1" if action.split(".")[0] in (
            "operator", "merchant", "settlement") else "operator-1"
        before = _count(pg)
        result = pg(*args, "--operator", who)
        assert result.exit_code == 0, (name, result.output, result.exception)
        rows = _rows(pg)
        assert len(rows) == before + 1, name
        newest = max(rows, key=lambda r: (r.created_at, r.entry_id))
        assert (newest.actor, newest.action) == (who, action), name


@pytest.mark.parametrize("command", [
    ["operators", "create", "--name", "x", "--role", "admin"],
    ["operators", "disable", "x"],
    ["merchants", "create", "--name", "Beta"],
    ["merchants", "disable", "mch_x"],
    ["merchants", "enable", "mch_x"],
    ["merchants", "routing", "set", "mch_x", "--rules", '{"rules": []}'],
    ["payments", "review", "pay_x", "--approve"],
    ["payments", "capture", "pay_x"],
    ["payments", "cancel", "pay_x"],
    ["refunds", "create", "pay_x"],
    ["settle"],
    ["webhooks", "retry", "evt_x"],
    ["keys", "rotate"],
])
def test_a_state_changing_command_without_an_operator_exits_2_and_writes_nothing(
    paygate: Paygate, command: list[str]
) -> None:
    del paygate.env["PAYGATE_OPERATOR"]

    result = paygate(*command)

    assert_clean_failure(result, 2, "--operator NAME or PAYGATE_OPERATOR")
    assert _count(paygate) == 0


def test_the_operator_comes_from_paygate_operator_too(paygate: Paygate) -> None:
    paygate.json("operators", "create", "--name", "ada", "--role", "admin")
    paygate.env["PAYGATE_OPERATOR"] = "ada"

    paygate.json("merchants", "create", "--name", "Beta")

    assert [r.actor for r in _rows(paygate) if r.action == "merchant.create"] == ["ada"]


def test_an_unknown_disabled_or_weaker_operator_is_refused_and_writes_nothing(
    paygate: Paygate,
) -> None:
    _operators(paygate)
    paygate.json("operators", "disable", "admin-1")
    before = _count(paygate)

    unknown = paygate("merchants", "create", "--name", "B", "--operator", "nobody")
    disabled = paygate("merchants", "create", "--name", "B", "--operator", "admin-1")
    viewer = paygate("merchants", "create", "--name", "B", "--operator", "viewer-1")
    operator = paygate("settle", "--operator", "operator-1")

    assert_clean_failure(unknown, 1, "not_found", "nobody")
    assert_clean_failure(disabled, 1, "forbidden", "disabled")
    assert_clean_failure(viewer, 1, "forbidden", "merchant.create needs the admin role")
    assert_clean_failure(operator, 1, "forbidden", "settlement.run needs the admin role")
    assert _count(paygate) == before


def test_a_token_is_shown_once_and_kept_only_as_its_hash(paygate: Paygate) -> None:
    made = paygate.json("operators", "create", "--name", "alice", "--role", "operator")
    listed = paygate.json("operators", "list")
    table = paygate("operators", "list")
    again = paygate("operators", "create", "--name", "alice", "--role", "admin")

    assert set(made) == {"name", "role", "token"}
    assert made["token"].startswith("pgo_")
    assert made["token"] not in table.output + str(listed)
    assert [(o["name"], o["role"], o["status"]) for o in listed] == [
        ("alice", "operator", "active")]
    [row] = _rows(paygate, operators)
    assert row.token_hash == token_hash(made["token"])
    assert_clean_failure(again, 1, "validation_error", "alice")


def test_audit_list_prints_a_table_or_json_newest_first_with_filters(
    paygate: Paygate, tmp_path: Path
) -> None:
    merchant = paygate.json("merchants", "create", "--name", "Acme")["merchant_id"]
    paygate.json("merchants", "disable", merchant, "--reason", "chargebacks")
    paygate.json("operators", "create", "--name", "bob", "--role", "viewer")

    everything = paygate.json("audit", "list")
    on_merchant = paygate.json("audit", "list", "--object", merchant, "--limit", "1")
    table = paygate("audit", "list", "--actor", "bootstrap")
    nobody = paygate.json("audit", "list", "--actor", "nobody")

    assert [e["action"] for e in everything["data"]] == [
        "operator.create", "merchant.disable", "merchant.create"]
    assert [e["actor"] for e in everything["data"]] == ["bootstrap"] * 3
    assert [e["action"] for e in on_merchant["data"]] == ["merchant.disable"]
    assert on_merchant["next_cursor"]
    assert everything["data"][1]["before"] == "active"
    assert everything["data"][1]["after"] == "disabled"
    assert everything["data"][1]["reason"] == "chargebacks"
    assert table.exit_code == 0
    assert "audit trail" in table.output
    assert len([line for line in table.output.splitlines() if line.startswith("│")]) >= 3
    assert nobody == {"data": [], "next_cursor": None}


def test_no_command_alters_the_trail(paygate: Paygate) -> None:
    paygate.json("merchants", "create", "--name", "Acme")
    for verb in ("delete", "update", "remove", "edit", "purge", "prune"):
        result = paygate("audit", verb)
        assert result.exit_code == 2
    assert _count(paygate) == 1


def test_keys_rotate_is_an_admins_and_its_row_commits_with_the_new_fingerprint(
    paygate: Paygate, merchant: dict[str, Any], tmp_path: Path
) -> None:
    paygate.json("operators", "create", "--name", "otto", "--role", "operator")
    old = (tmp_path / "paygate.key").read_text()
    both = Paygate({**paygate.env, "PAYGATE_MASTER_KEY": NEW_KEY,
                    "PAYGATE_PREVIOUS_MASTER_KEY": old})

    refused = both("keys", "rotate", "--operator", "otto")
    rotated = both.json("keys", "rotate", "--operator", "bootstrap")
    again = both.json("keys", "rotate", "--operator", "bootstrap")

    assert_clean_failure(refused, 1, "forbidden", "keys.rotate needs the admin role")
    [row] = [r for r in _rows(paygate) if r.action == "keys.rotate"]
    assert (row.actor, row.object_type) == ("bootstrap", "master_key")
    assert row.after_status == rotated["sealed_with"] == again["sealed_with"]
    assert row.before_status != row.after_status


def test_audit_list_takes_rfc3339_instants_as_every_output_prints_them(
    paygate: Paygate,
) -> None:
    """`--from` refused a `created_at` pasted from `audit list --json`."""
    paygate.json("merchants", "create", "--name", "Acme")
    paygate.json("merchants", "create", "--name", "Bolt")
    newest, oldest = paygate.json("audit", "list")["data"]
    second = datetime.fromisoformat(newest["created_at"])
    in_paris = second.astimezone(timezone(timedelta(hours=2))).isoformat()  # +02:00, .ffffff

    from_newest = paygate.json("audit", "list", "--from", newest["created_at"])
    to_newest = paygate.json("audit", "list", "--to", in_paris)
    naive_day = paygate.json("audit", "list", "--from", second.strftime("%Y-%m-%d"))
    naive_second = paygate.json(
        "audit", "list", "--to", (second + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S"))
    lowercase = paygate.json("audit", "list", "--from", newest["created_at"].lower())

    assert from_newest["data"] == [newest]
    assert to_newest["data"] == ([oldest] if oldest["created_at"] < newest["created_at"] else [])
    assert naive_day["data"] == [newest, oldest]
    assert naive_second["data"] == [newest, oldest]
    assert lowercase["data"] == [newest]


@pytest.mark.parametrize("value", ["yesterday", "2026-12-02T00:00", "2026-12-02Z",
                                   "2026-12-02T00:00:00+2", "2026-13-02T00:00:00Z"])
def test_audit_list_refuses_what_is_no_instant_in_one_line(
    paygate: Paygate, value: str
) -> None:
    result = paygate("audit", "list", "--from", value)

    assert_clean_failure(result, 2, "--from", "RFC 3339")
