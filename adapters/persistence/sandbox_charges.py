"""`SqlSandboxCharges`: the sandbox acquirer's record of the charges it made.

A real acquirer knows its charges whatever happens to paygate; the sandbox, kept in a
process's memory, forgot them with the process. One row per charge, written (one
statement, committing on its own) before the sandbox answers, so a charge it answered is
a charge it remembers, and one it has no row for was never made.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from adapters.persistence.schema import sandbox_charges as t
from adapters.persistence.sql import InsertIgnoring, Repository
from application.ports.channel import ChargeResult, Outcome

if TYPE_CHECKING:
    from adapters.persistence.uow import SqlUnitOfWorkFactory

_RECORD = InsertIgnoring(t, "charge_key")
_BY_KEY = select(
    t.c.outcome, t.c.reference, t.c.failure_code, t.c.failure_message, t.c.capture_before
).where(t.c.charge_key == bindparam("key"))


class SqlSandboxChargeRepository(Repository):
    """The unit of work's view of the table."""

    __slots__ = ()

    async def record(self, row: dict[str, Any]) -> None:
        await self._execute(_RECORD.on(self.dialect), row)

    async def find(self, key: str) -> Any:
        return (await self._execute(_BY_KEY, {"key": key})).first()


class SqlSandboxCharges:
    """The record in a single-statement unit of work on the driver connection (one round
    trip on PostgreSQL, docs/adr/0033): through SQLAlchemy's autocommitted connection the
    same INSERT cost about twice as much (as the spent signature's did, docs/adr/0023)."""

    def __init__(self, uow: SqlUnitOfWorkFactory) -> None:
        self._uow = uow

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
        async with self._uow(single_statement=True) as unit:
            await unit.sandbox_charges.record(row)
            await unit.commit()

    async def find(self, key: str) -> ChargeResult | None:
        async with self._uow(read_only=True, snapshot=False) as unit:
            row = await unit.sandbox_charges.find(key)
        if row is None:
            return None
        return ChargeResult(Outcome(row.outcome), row.reference, row.failure_code,
                            row.failure_message, capture_before=row.capture_before)
