"""Publish committed outbox entries into the feed, and fan them out to their deliveries.

One publisher at a time (`lock_publisher`): each run reads the entries committed so far in
the order they were written, gives every event its merchant's next sequence, and writes
the events, the merchants' last sequences, the deliveries and the removal of the entries
in one transaction. A reader that saw sequence n can therefore never later find an event
below n it has not seen, whatever the concurrency of the payments that wrote them; and a
payment's events keep the order of its moves, because the entries of a payment are kept
on its row in the order they committed (docs/adr/0020, 0036).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.fanout import Fanout
from application.ports.events import Announced, Event
from application.ports.platform import Clock, IdGenerator
from application.ports.storage import UnitOfWork, UnitOfWorkFactory
from domain.timestamps import rfc3339

ROUNDS = 10  # batches per run at most, each its own transaction, while batches come full


def event_body(announced: Announced, sequence: int, created_at: datetime) -> str:
    """The event as the feed and every webhook send it, byte for byte."""
    body: dict[str, Any] = {
        "id": announced.event_id,
        "sequence": sequence,
        "type": announced.type,
        "created_at": rfc3339(created_at),
        "data": announced.data,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class PublishEvents:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    batch: int = 500

    async def __call__(self) -> dict[str, int]:
        counts = {"published": 0, "deliveries": 0}
        for _ in range(ROUNDS):
            async with self.uow(read_only=True, snapshot=False) as uow:
                if await uow.outbox.oldest_created_at() is None:
                    break  # nothing to publish: no write lock taken, no transaction
            async with self.uow() as uow:
                entries, published, deliveries = await self._publish(uow)
                await uow.commit()
            counts["published"] += published
            counts["deliveries"] += deliveries
            if entries < self.batch:
                break
        return counts

    async def _publish(self, uow: UnitOfWork) -> tuple[int, int, int]:
        await uow.events.lock_publisher(self.clock.now())
        entries = await uow.outbox.oldest(self.batch)
        if not entries:
            return 0, 0, 0
        merchants = sorted({entry.merchant_id for entry in entries})
        last = await uow.events.last_sequences(merchants)
        fan_out = Fanout(await uow.endpoints.active(merchants), self.ids, self.clock.now())
        events: list[Event] = []
        for entry in entries:
            for announced in entry.events:
                sequence = last[entry.merchant_id] = last.get(entry.merchant_id, 0) + 1
                event = Event(
                    announced.event_id,
                    entry.merchant_id,
                    sequence,
                    announced.type,
                    entry.created_at,
                    event_body(announced, sequence, entry.created_at),
                )
                events.append(event)
                fan_out.add(event, announced, entry)
        await uow.events.add(events)
        await uow.events.set_last_sequences({m: last[m] for m in merchants})
        await uow.deliveries.add(fan_out.deliveries)
        await uow.outbox.remove(entries)
        return len(entries), len(events), len(fan_out.deliveries)
