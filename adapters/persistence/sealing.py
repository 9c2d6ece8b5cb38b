"""The master key's fingerprint on record, and the sealed values a key rotation re-seals.

`sealing_key` holds one row, written by the first process that finds it empty; every
later process compares its own key with it (docs/adr/0022). Each sealed column is read a
batch at a time in primary-key order and each value is replaced only if it is still the
one that was read, so a rotation running beside live gateways never overwrites a newer
value, and never holds a lock while it decrypts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Table, and_, bindparam, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.errors import translated
from adapters.persistence.schema import idempotency_keys, merchants, sealing_key
from adapters.persistence.sql import Autocommit, InsertIgnoring, Repository
from adapters.persistence.uow import SqlUnitOfWorkFactory
from domain.operator import AuditEntry

SLOT = "sealing"
_RECORDED = select(sealing_key).where(sealing_key.c.slot == SLOT)
_RECORD = InsertIgnoring(sealing_key, "slot")
_MOVE = (
    update(sealing_key)
    .where(sealing_key.c.slot == SLOT, sealing_key.c.fingerprint == bindparam("was"))
    .values(
        fingerprint=bindparam("to"),
        previous_fingerprint=bindparam("was"),
        recorded_at=bindparam("now"),
    )
)
_SAMPLE = select(merchants.c.api_secret_sealed).limit(1)
SEALED_PREFIXES = ("v1:", "v2:")


@dataclass(frozen=True, slots=True)
class KeyRecord:
    fingerprint: str
    previous_fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class SealedColumn:
    """A column holding values sealed by the vault; `binary`: stored as bytes, where only
    values that begin like a sealed value are sealed (stored replays of other answers are
    plain JSON)."""

    table: Table
    name: str
    binary: bool = False

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.name}"

    @property
    def column(self) -> Column[Any]:
        return self.table.c[self.name]

    @property
    def keys(self) -> list[Column[Any]]:
        return list(self.table.primary_key.columns)


SEALED_COLUMNS = (
    SealedColumn(merchants, "api_secret_sealed"),
    SealedColumn(merchants, "webhook_secret_sealed"),
    SealedColumn(idempotency_keys, "response_body", binary=True),  # replays holding secrets
)
"""Every sealed value paygate stores; a table that stores one adds its column here."""


class _KeyRecordInUnit(Repository):
    """The fingerprint's move inside a unit of work, to commit with its audit row."""

    __slots__ = ()

    async def move(self, was: str, to: str, now: datetime) -> bool:
        return bool((await self._execute(_MOVE, {"was": was, "to": to, "now": now})).rowcount)


class SqlSealingKey:
    """The fingerprint on record, and the sealed values, outside any unit of work."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._db = Autocommit(engine)
        self._units = SqlUnitOfWorkFactory(engine)

    async def recorded(self) -> KeyRecord | None:
        with translated("reading the master key's fingerprint"):
            async with self._db.connect() as conn:
                row = (await conn.execute(_RECORDED)).first()
        return None if row is None else KeyRecord(row.fingerprint, row.previous_fingerprint)

    async def record_first(self, fingerprint: str, now: datetime) -> KeyRecord:
        """Record `fingerprint` unless one is recorded already; the record either way."""
        row = {"slot": SLOT, "fingerprint": fingerprint, "recorded_at": now}
        with translated("recording the master key's fingerprint"):
            async with self._db.connect() as conn:
                await conn.execute(_RECORD.on(conn.dialect.name), row)
        recorded = await self.recorded()
        assert recorded is not None  # written just now, and never deleted
        return recorded

    async def move(
        self, was: str, to: str, now: datetime, audit: AuditEntry | None = None
    ) -> bool:
        """Record `to` in place of `was`; False when `was` is no longer the record. With
        `audit`, the operator's row is written in the same transaction as the move."""
        if audit is not None:
            async with self._units() as uow:
                moved = await uow.repository(_KeyRecordInUnit).move(was, to, now)
                if moved:
                    await uow.audit.add(audit)
                    await uow.commit()
                return moved
        with translated("recording the new master key's fingerprint"):
            async with self._db.connect() as conn:
                done = await conn.execute(_MOVE, {"was": was, "to": to, "now": now})
        return bool(done.rowcount)

    async def any_sealed_secret(self) -> str | None:
        """One merchant's sealed API secret, to learn which key the database already uses."""
        with translated("reading a sealed secret"):
            async with self._db.connect() as conn:
                return (await conn.execute(_SAMPLE)).scalar()

    async def not_sealed_with(
        self, sealed: SealedColumn, prefix: str, after: tuple[Any, ...] | None, limit: int
    ) -> list[tuple[tuple[Any, ...], str]]:
        """Up to `limit` (primary key, value) pairs past `after` whose value is sealed, but
        not under the key whose values begin with `prefix`."""
        value = sealed.column
        marker: Any = prefix.encode() if sealed.binary else prefix
        conditions = [func.substr(value, 1, len(prefix)) != marker]
        if sealed.binary:
            conditions.append(func.substr(value, 1, 3).in_([p.encode() for p in SEALED_PREFIXES]))
        if after is not None:
            conditions.append(tuple_(*sealed.keys) > tuple_(*after))
        query = select(*sealed.keys, value).where(and_(*conditions))
        query = query.order_by(*sealed.keys).limit(limit)
        with translated("reading sealed values"):
            async with self._db.connect() as conn:
                rows = (await conn.execute(query)).all()
        width = len(sealed.keys)
        return [(tuple(row[:width]), _text(row[width])) for row in rows]

    async def replace(
        self, sealed: SealedColumn, key: tuple[Any, ...], was: str, to: str
    ) -> bool:
        """Write `to` where the value is still `was`; False when it changed meanwhile."""
        encode = str.encode if sealed.binary else str
        same_row = (c == v for c, v in zip(sealed.keys, key, strict=True))
        statement = (
            update(sealed.table)
            .where(*same_row, sealed.column == encode(was))
            .values({sealed.name: encode(to)})
        )
        with translated("re-sealing a value"):
            async with self._db.connect() as conn:
                return bool((await conn.execute(statement)).rowcount)


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else bytes(value).decode()
