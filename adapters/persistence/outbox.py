"""The outbox: each committed transaction's events, kept on the row of the payment they
are about until the publisher takes them.

A transaction that moves a payment (or one of its refunds) writes the payment's row
anyway; its events go in the same statement, appended to the row's `unpublished` text as
one JSON line, so announcing a move writes no row and takes no lock of its own
(docs/adr/0036). The publisher reads the payments whose `unpublished_since` is set, the
oldest first, and takes what it read off the front of their text: a move committed in
the meantime appended after it and stays for the next turn.
"""

from __future__ import annotations

import builtins
import json
from datetime import UTC, datetime
from typing import Any

from opentelemetry.propagate import inject
from sqlalchemy import Integer, Row, bindparam, case, func, select

from adapters.persistence.engine import json_text
from adapters.persistence.schema import UNPUBLISHED
from adapters.persistence.schema import payments as t
from adapters.persistence.sql import Repository
from application.ports.events import Announced, OutboxEntry


def entry_line(entry: OutboxEntry) -> str:
    """One transaction's events as the line appended to its payment's `unpublished`:
    compact JSON (msgspec escapes every line break inside it), then a newline. Written
    with the trace it is written in, unless the entry names one already."""
    return json_text({
        "created_at": entry.created_at.isoformat(),
        "traceparent": entry.traceparent or _current_traceparent(),
        "events": [
            {"id": e.event_id, "type": e.type, "data": e.data, "notify": e.notify}
            for e in entry.events
        ],
    }) + "\n"


def entries_of(r: Row[Any]) -> builtins.list[OutboxEntry]:
    """The entries of a payment row's `unpublished` text, oldest first; each one's
    position is its payment and the length of the text up to its end."""
    entries, end = [], 0
    for line in r.unpublished.split("\n")[:-1]:  # only "\n" ends a line: U+2028 may not
        end += len(line) + 1
        written = json.loads(line)
        entries.append(OutboxEntry(
            merchant_id=r.merchant_id,
            events=tuple(
                Announced(e["id"], e["type"], e["data"], e["notify"])
                for e in written["events"]
            ),
            created_at=datetime.fromisoformat(written["created_at"]).astimezone(UTC),
            notify_url=r.notify_url,
            traceparent=written["traceparent"],
            position=(r.payment_no, end),
        ))
    return entries


def _current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


_WAITING = (
    select(t.c.payment_no, t.c.merchant_id, t.c.notify_url, t.c.unpublished)
    .where(UNPUBLISHED)
    .order_by(t.c.unpublished_since, t.c.payment_no)
    .limit(bindparam("limit"))
)
_FIRST_WAITING = (
    select(t.c.unpublished_since).where(UNPUBLISHED).order_by(t.c.unpublished_since).limit(1)
)
_TAKEN = bindparam("taken", type_=Integer)
_LEFT = func.length(t.c.unpublished) > _TAKEN
_TAKE = (
    t.update()
    .where(t.c.payment_no == bindparam("p"))
    .values(
        # what was appended since it was read stays, and keeps its place in the queue
        unpublished=case((_LEFT, func.substr(t.c.unpublished, _TAKEN + 1)), else_=None),
        unpublished_since=case((_LEFT, t.c.unpublished_since), else_=None),
    )
)


class SqlOutboxRepository(Repository):
    __slots__ = ()

    async def oldest(self, limit: int) -> builtins.list[OutboxEntry]:
        """The entries of the `limit` payments waiting longest, each payment's in the
        order its transactions committed."""
        rows = await self._execute(_WAITING, {"limit": limit})
        return [entry for row in rows for entry in entries_of(row)]

    async def oldest_created_at(self) -> datetime | None:
        row = (await self._execute(_FIRST_WAITING)).first()
        return None if row is None else row.unpublished_since

    async def remove(self, entries: builtins.list[OutboxEntry]) -> None:
        taken: dict[str, int] = {}
        for entry in entries:
            if entry.position is not None:
                payment_no, end = entry.position
                taken[payment_no] = max(end, taken.get(payment_no, 0))
        if taken:
            await self._execute(_TAKE, [{"p": p, "taken": n} for p, n in taken.items()])
