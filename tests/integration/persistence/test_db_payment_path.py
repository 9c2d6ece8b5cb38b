"""What an automatic payment costs the database: seven statements in two transactions, the
five of docs/adr/0008 and each transaction's outbox row (docs/adr/0020), whatever the card
lifecycle added around it (docs/adr/0014); what routing adds, to routed payments only
(docs/adr/0025); and the sandbox acquirer's record of its charge, one statement of its own
(migration 0009, docs/adr/0033), which a real channel does not write."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from payment_path import payment_statements, sandbox_record

from domain.routing import RoutingRule

pytestmark = pytest.mark.usefixtures("migrated_url")


async def test_an_automatic_payment_is_seven_statements_in_two_transactions(
    migrated_url: str, master_key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A payment that names its channel: exactly what it cost before routing existed."""
    payment, sent = await payment_statements(migrated_url, master_key_file, monkeypatch, "sandbox")

    assert payment.status.value == "succeeded"
    assert sent == Counter({
        "BEGIN": 2, "COMMIT": 2, "INSERT payments": 1, "INSERT orders": 1,
        "UPDATE payments": 1, "INSERT ledger_entries": 1, "UPDATE orders": 1,
        "INSERT outbox": 2,  # each transaction's events (docs/adr/0020)
    }) + sandbox_record(migrated_url)


async def test_a_routed_payment_adds_its_rules_lookup_and_its_attempt_row(
    migrated_url: str, master_key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment, sent = await payment_statements(migrated_url, master_key_file, monkeypatch, None,
                                      [RoutingRule(channels=("sandbox",))])

    assert payment.status.value == "succeeded"
    assert [a.outcome.value for a in payment.attempts] == ["succeeded"]
    assert sent == Counter({
        "SELECT routing_rules": 1,  # outside any transaction
        "BEGIN": 2, "COMMIT": 2, "INSERT payments": 1, "INSERT orders": 1,
        "INSERT payment_attempts": 1, "UPDATE payment_attempts": 1,
        "UPDATE payments": 1, "INSERT ledger_entries": 1, "UPDATE orders": 1,
        "INSERT outbox": 2,
    }) + sandbox_record(migrated_url)
