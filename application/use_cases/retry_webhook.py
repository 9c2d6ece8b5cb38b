"""An operator sends an event's deliveries again now, dead or not."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import NotFound
from application.ports.events import DeliveryStatus, WebhookDelivery
from application.ports.platform import Clock
from application.ports.storage import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class RetryWebhook:
    uow: UnitOfWorkFactory
    clock: Clock

    async def __call__(self, event_id: str) -> list[WebhookDelivery]:
        async with self.uow() as uow:
            deliveries = await uow.deliveries.of_event(event_id)
            if not deliveries:
                raise NotFound(f"no webhook deliveries of event {event_id}")
            for delivery in deliveries:
                delivery.status, delivery.next_attempt_at = (
                    DeliveryStatus.PENDING, self.clock.now())
                await uow.deliveries.update(delivery)
            await uow.commit()
        return deliveries
