"""What SQLite runs for a payment: no statement builds a temporary table."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from payment_path import payment_statements


async def test_no_statement_of_a_sqlite_payment_builds_a_temporary_table(
    sqlite_url: str, master_key_file: Path, monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """SQLite builds a temporary table for `x IN (a list of three or more)` each time it
    runs one, and evaluates a partial index's predicate at every insert and update: a
    predicate or condition written as a list costs every payment (docs/adr/0034)."""
    path = Path(sqlite_url.split("///", 1)[1])
    shutil.copyfile(request.getfixturevalue("_migrated_sqlite_template"), path)
    programs: list[str] = []
    payment, sent = await payment_statements(sqlite_url, master_key_file, monkeypatch, "sandbox",
                                      programs=programs)

    assert payment.status.value == "succeeded"
    assert len(programs) == sum(sent.values()) - sent["BEGIN"] - sent["COMMIT"]
    with closing(sqlite3.connect(path)) as db:
        for sql in programs:
            opcodes = {row[1] for row in db.execute(f"EXPLAIN {sql}", [None] * sql.count("?"))}
            assert "OpenEphemeral" not in opcodes, sql
