"""The outbox table: each committed transaction's events, until the publisher takes them.

An entry is one row whatever number of events its transaction made (a charge's
`processing` and `succeeded` together), written with one INSERT: the payment path's only
statement for its events (docs/adr/0020).
"""

from __future__ import annotations

import builtins
import json
from datetime import datetime
from typing import Any

from opentelemetry.propagate import inject
from sqlalchemy import Row, bindparam, delete, select

from adapters.persistence.engine import json_text
from adapters.persistence.schema import outbox as t
from adapters.persistence.sql import Repository
from application.ports.events import Announced, OutboxEntry


def _events_text(events: tuple[Announced, ...]) -> str:
    """Compact JSON, characters as UTF-8. msgspec writes an entry (two payment views, on
    a charge) in about a tenth of the instructions `json.dumps` took, ~75 k an entry
    (docs/benchmarks.md); `json` reads it back the same."""
    return json_text(
        [{"id": e.event_id, "type": e.type, "data": e.data, "notify": e.notify} for e in events]
    )


def _events_of(text: str) -> tuple[Announced, ...]:
    return tuple(
        Announced(e["id"], e["type"], e["data"], e["notify"]) for e in json.loads(text)
    )


def entry_from_row(r: Row[Any]) -> OutboxEntry:
    return OutboxEntry(
        merchant_id=r.merchant_id,
        events=_events_of(r.events),
        created_at=r.created_at,
        notify_url=r.notify_url,
        traceparent=r.traceparent,
        entry_id=r.entry_id,
    )


def _current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


_INSERT = t.insert()
_OLDEST = select(t).order_by(t.c.entry_id).limit(bindparam("limit"))
# the lowest id is the entry written first: the oldest, read on the primary key
_FIRST_WRITTEN = select(t.c.created_at).order_by(t.c.entry_id).limit(1)
_REMOVE = delete(t).where(t.c.entry_id.in_(bindparam("ids", expanding=True)))


class SqlOutboxRepository(Repository):
    __slots__ = ()

    async def add(self, entry: OutboxEntry) -> None:
        """Written with the trace it is written in (unless it names one already)."""
        await self._execute(
            _INSERT,
            {
                "merchant_id": entry.merchant_id,
                "events": _events_text(entry.events),
                "notify_url": entry.notify_url,
                "created_at": entry.created_at,
                "traceparent": entry.traceparent or _current_traceparent(),
            },
        )

    async def oldest(self, limit: int) -> builtins.list[OutboxEntry]:
        return [entry_from_row(row) for row in await self._execute(_OLDEST, {"limit": limit})]

    async def oldest_created_at(self) -> datetime | None:
        row = (await self._execute(_FIRST_WRITTEN)).first()
        return None if row is None else row.created_at

    async def remove(self, entry_ids: builtins.list[int]) -> None:
        if entry_ids:
            await self._execute(_REMOVE, {"ids": entry_ids})
