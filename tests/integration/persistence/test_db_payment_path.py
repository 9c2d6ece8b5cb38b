"""What an automatic payment costs the database: five statements in two transactions, those
of docs/adr/0008, whatever the card lifecycle added around it (docs/adr/0014), its events
written by the payment's own statements (docs/adr/0020, 0036) with no row of their own;
what routing adds, to routed payments only (docs/adr/0025); and the sandbox acquirer's
record of its charge, one statement of its own (migration 0009, docs/adr/0033), which a
real channel does not write."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from payment_path import payment_statements, sandbox_record, waiting_entries

from domain.routing import RoutingRule

pytestmark = pytest.mark.usefixtures("migrated_url")


async def test_an_automatic_payment_is_five_statements_in_two_transactions(
    migrated_url: str, master_key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A payment that names its channel: exactly what it cost before routing existed."""
    payment, sent = await payment_statements(migrated_url, master_key_file, monkeypatch, "sandbox")

    assert payment.status.value == "succeeded"
    assert sent == Counter({
        "BEGIN": 2, "COMMIT": 2, "INSERT payments": 1, "INSERT orders": 1,
        "UPDATE payments": 1, "INSERT ledger_entries": 1, "UPDATE orders": 1,
    }) + sandbox_record(migrated_url)
    # its three events wait on its row: the pending one written by the INSERT, the
    # processing and succeeded ones appended by the UPDATE
    assert [e.type for entry in await waiting_entries(migrated_url) for e in entry.events] == [
        "payment.pending", "payment.processing", "payment.succeeded"]


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
    }) + sandbox_record(migrated_url)
