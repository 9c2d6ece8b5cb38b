"""Read one event, scoped to its merchant."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import NotFound
from application.ports.events import Event
from application.ports.storage import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class GetEvent:
    uow: UnitOfWorkFactory

    async def __call__(self, event_id: str, merchant_id: str) -> Event:
        """Another merchant's event is indistinguishable from a missing one."""
        async with self.uow(read_only=True, snapshot=False) as uow:
            event = await uow.events.get(event_id, merchant_id)
        if event is None:
            raise NotFound(f"no event {event_id}")
        return event
