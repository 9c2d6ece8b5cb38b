"""Where one of a merchant's events went: each delivery, its attempts and its next try."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import NotFound
from application.ports.events import WebhookDelivery
from application.ports.storage import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class ListEventDeliveries:
    uow: UnitOfWorkFactory

    async def __call__(self, event_id: str, merchant_id: str) -> list[WebhookDelivery]:
        """Oldest first; another merchant's event is a missing one."""
        async with self.uow(read_only=True) as uow:
            if await uow.events.get(event_id, merchant_id) is None:
                raise NotFound(f"no event {event_id}")
            return await uow.deliveries.of_event(event_id)
