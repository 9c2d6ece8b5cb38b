"""The events table (the feed), each merchant's last sequence, and the publisher's turn.

Only the publisher writes here, one at a time: `lock_publisher` upserts the publisher's
one row, which holds its row lock until the transaction ends (on SQLite the write unit
already holds the database's write lock). A second publisher waits for that turn and then
reads the outbox afresh. A merchant's sequence is unique in the database as well, so even
a publisher that somehow ran alongside could not give one number twice.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Row, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.persistence.schema import event_publisher, event_streams, webhook_deliveries
from adapters.persistence.schema import events as t
from adapters.persistence.sql import Repository
from application.ports.events import Event, EventQuery

PUBLISHER = "events"


def event_to_row(e: Event) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "merchant_id": e.merchant_id,
        "sequence": e.sequence,
        "type": e.type,
        "body": e.body,
        "created_at": e.created_at,
    }


def event_from_row(r: Row[Any]) -> Event:
    return Event(r.event_id, r.merchant_id, r.sequence, r.type, r.created_at, r.body)


def _upserts(table: Any, key: str, column: str) -> dict[str, Insert]:
    """`INSERT ... ON CONFLICT (key) DO UPDATE SET column = excluded.column`, per dialect."""
    built: dict[str, Insert] = {}
    for dialect, insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert)):
        statement = insert(table)
        built[dialect] = statement.on_conflict_do_update(
            index_elements=[key], set_={column: statement.excluded[column]}
        )
    return built


_INSERT = t.insert()
_BY_ID = select(t).where(t.c.event_id == bindparam("e"))
_BY_ID_SCOPED = _BY_ID.where(t.c.merchant_id == bindparam("m"))
_BY_IDS = select(t).where(t.c.event_id.in_(bindparam("ids", expanding=True)))
_FEED = (
    select(t)
    .where(t.c.merchant_id == bindparam("m"), t.c.sequence > bindparam("after"))
    .order_by(t.c.sequence)
    .limit(bindparam("limit"))
)
_FEED_OF_TYPE = _FEED.where(t.c.type == bindparam("type"))
_LAST = select(event_streams).where(
    event_streams.c.merchant_id.in_(bindparam("ids", expanding=True))
)
_SET_LAST = _upserts(event_streams, "merchant_id", "last_sequence")
_TURN = _upserts(event_publisher, "name", "last_run_at")
_OLD = (
    select(t.c.event_id)
    .where(t.c.created_at < bindparam("before"))
    .order_by(t.c.created_at)
    .limit(bindparam("limit"))
)
_PRUNE_DELIVERIES = delete(webhook_deliveries).where(
    webhook_deliveries.c.event_id.in_(bindparam("ids", expanding=True))
)
_PRUNE = delete(t).where(t.c.event_id.in_(bindparam("ids", expanding=True)))


class SqlEventRepository(Repository):
    __slots__ = ()

    async def lock_publisher(self, now: datetime) -> None:
        await self._execute(_TURN[self.dialect], {"name": PUBLISHER, "last_run_at": now})

    async def add(self, events: builtins.list[Event]) -> None:
        if events:
            await self._execute(_INSERT, [event_to_row(e) for e in events])

    async def get(self, event_id: str, merchant_id: str | None = None) -> Event | None:
        statement = _BY_ID if merchant_id is None else _BY_ID_SCOPED
        row = (await self._execute(statement, {"e": event_id, "m": merchant_id})).first()
        return event_from_row(row) if row is not None else None

    async def get_many(self, event_ids: builtins.list[str]) -> builtins.list[Event]:
        if not event_ids:
            return []
        return [event_from_row(row) for row in await self._execute(_BY_IDS, {"ids": event_ids})]

    async def list(self, query: EventQuery) -> builtins.list[Event]:
        statement = _FEED if query.type is None else _FEED_OF_TYPE
        params = {"m": query.merchant_id, "after": query.after, "limit": query.limit + 1,
                  "type": query.type}
        return [event_from_row(row) for row in await self._execute(statement, params)]

    async def last_sequences(self, merchant_ids: builtins.list[str]) -> dict[str, int]:
        if not merchant_ids:
            return {}
        rows = await self._execute(_LAST, {"ids": merchant_ids})
        return {row.merchant_id: int(row.last_sequence) for row in rows}

    async def set_last_sequences(self, last: dict[str, int]) -> None:
        if last:
            rows = [{"merchant_id": m, "last_sequence": s} for m, s in sorted(last.items())]
            await self._execute(_SET_LAST[self.dialect], rows)

    async def prune(self, before: datetime, limit: int) -> int:
        old = (await self._execute(_OLD, {"before": before, "limit": limit})).scalars()
        ids = list(old)
        if ids:
            await self._execute(_PRUNE_DELIVERIES, {"ids": ids})
            await self._execute(_PRUNE, {"ids": ids})
        return len(ids)
