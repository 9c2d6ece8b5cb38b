"""`SqlSandboxCharges`: the sandbox acquirer's record of the charges it made.

A real acquirer knows its charges whatever happens to paygate; the sandbox, kept in a
process's memory, forgot them with the process. One row per charge, written (one
statement, committing on its own) before the sandbox answers, so a charge it answered is
a charge it remembers, and one it has no row for was never made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.errors import translated
from adapters.persistence.schema import sandbox_charges as t
from adapters.persistence.sql import Autocommit, InsertIgnoring
from application.ports.channel import ChargeResult, Outcome

_RECORD = InsertIgnoring(t, "charge_key")
_BY_KEY = select(
    t.c.outcome, t.c.reference, t.c.failure_code, t.c.failure_message, t.c.capture_before
).where(t.c.charge_key == bindparam("key"))


class SqlSandboxCharges:
    def __init__(self, engine: AsyncEngine) -> None:
        self._db = Autocommit(engine)

    async def record(self, key: str, result: ChargeResult, now: datetime) -> None:
        """Remember `result` for `key`; a charge already recorded keeps its first answer."""
        row: dict[str, Any] = {
            "charge_key": key,
            "outcome": result.outcome.value,
            "reference": result.reference,
            "failure_code": result.failure_code,
            "failure_message": result.failure_message,
            "capture_before": result.capture_before,
            "created_at": now,
        }
        with translated("recording a sandbox charge"):
            async with self._db.connect() as conn:
                await conn.execute(_RECORD.on(conn.dialect.name), row)

    async def find(self, key: str) -> ChargeResult | None:
        with translated("reading a sandbox charge"):
            async with self._db.connect() as conn:
                row = (await conn.execute(_BY_KEY, {"key": key})).first()
        if row is None:
            return None
        return ChargeResult(Outcome(row.outcome), row.reference, row.failure_code,
                            row.failure_message, capture_before=row.capture_before)
