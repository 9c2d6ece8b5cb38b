"""An operator sends an event's deliveries again now, dead or not."""

from __future__ import annotations

from dataclasses import dataclass

from application.auditing import AuditObject, AuditTrail
from application.errors import NotFound
from application.ports.events import DeliveryStatus, WebhookDelivery
from application.ports.platform import Clock
from application.ports.storage import UnitOfWorkFactory
from domain.operator import Action, Actor


@dataclass(frozen=True, slots=True)
class RetryWebhook:
    uow: UnitOfWorkFactory
    clock: Clock
    trail: AuditTrail

    async def __call__(
        self, event_id: str, actor: Actor | None = None, reason: str | None = None
    ) -> list[WebhookDelivery]:
        self.trail.check(actor, Action.WEBHOOK_RETRY)
        async with self.uow() as uow:
            deliveries = await uow.deliveries.of_event(event_id)
            if not deliveries:
                raise NotFound(f"no webhook deliveries of event {event_id}")
            before = ",".join(sorted({str(d.status) for d in deliveries}))
            for delivery in deliveries:
                delivery.status, delivery.next_attempt_at = (
                    DeliveryStatus.PENDING, self.clock.now())
                await uow.deliveries.update(delivery)
            await self.trail.record(uow, actor, Action.WEBHOOK_RETRY,
                                    AuditObject("event", event_id), before,
                                    str(DeliveryStatus.PENDING), reason)
            await uow.commit()
        return deliveries
