"""An operator sends a webhook again now, dead or not."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import NotFound
from application.ports.platform import Clock
from application.ports.storage import UnitOfWorkFactory, WebhookEvent, WebhookStatus


@dataclass(frozen=True, slots=True)
class RetryWebhook:
    uow: UnitOfWorkFactory
    clock: Clock

    async def __call__(self, event_id: str) -> WebhookEvent:
        async with self.uow() as uow:
            event = await uow.webhooks.get(event_id)
            if event is None:
                raise NotFound(f"no webhook event {event_id}")
            event.status, event.next_attempt_at = WebhookStatus.PENDING, self.clock.now()
            await uow.webhooks.update(event)
            await uow.commit()
        return event
