"""A merchant's feed: its events after a sequence, in sequence order, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import ValidationFailed
from application.pagination import check_limit
from application.ports.events import Event, EventQuery
from application.ports.storage import UnitOfWorkFactory
from domain.events import EVENT_TYPES

MAX_SEQUENCE = 2**63 - 1  # a BIGINT


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[Event]
    next_after: int  # the `after` to read on with: the last sequence here, or the one asked
    has_more: bool


@dataclass(frozen=True, slots=True)
class ListEvents:
    """Sequences are given only to committed events, in order, by one publisher at a time:
    reading again with `after` = the last sequence seen never misses an event."""

    uow: UnitOfWorkFactory

    async def __call__(self, query: EventQuery) -> EventPage:
        check_limit(query.limit)
        if not 0 <= query.after <= MAX_SEQUENCE:
            raise ValidationFailed("after must be a sequence: an integer from 0")
        if query.type is not None and query.type not in EVENT_TYPES:
            raise ValidationFailed(
                f"type {query.type!r} is not an event type; use one of "
                f"{', '.join(sorted(EVENT_TYPES))}"
            )
        async with self.uow(read_only=True, snapshot=False) as uow:
            found = await uow.events.list(query)
        events = found[: query.limit]
        return EventPage(
            events, events[-1].sequence if events else query.after, len(found) > query.limit
        )
