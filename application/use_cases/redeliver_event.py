"""A merchant asks for an event again: the same event id and body, signed afresh."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import NotFound, ValidationFailed
from application.fanout import new_delivery
from application.ports.events import Event, WebhookDelivery
from application.ports.platform import Clock, IdGenerator
from application.ports.storage import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class RedeliverEvent:
    """A new delivery, on the whole retry schedule, to the endpoint named; without one, to
    every destination the event was delivered to before that is still there (its
    endpoints not deleted, the payment's notify_url). The earlier deliveries stay as
    they were, so the merchant's view keeps every attempt."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator

    async def __call__(
        self, event_id: str, merchant_id: str, endpoint_id: str | None = None
    ) -> list[WebhookDelivery]:
        async with self.uow() as uow:
            event = await uow.events.get(event_id, merchant_id)
            if event is None:
                raise NotFound(f"no event {event_id}")
            targets: list[tuple[str | None, str]]
            if endpoint_id is not None:
                endpoint = await uow.endpoints.get(endpoint_id, merchant_id)
                if endpoint is None or not endpoint.active:
                    raise NotFound(f"no webhook endpoint {endpoint_id}")
                targets = [(endpoint.endpoint_id, endpoint.url)]
            else:
                targets = await self._earlier_destinations(uow, event)
            if not targets:
                raise ValidationFailed(
                    f"event {event_id} was never sent anywhere: name an endpoint_id")
            now = self.clock.now()
            deliveries = [new_delivery(self.ids, event, e, url, now) for e, url in targets]
            await uow.deliveries.add(deliveries)
            await uow.commit()
        return deliveries

    @staticmethod
    async def _earlier_destinations(
        uow: UnitOfWork, event: Event
    ) -> list[tuple[str | None, str]]:
        earlier = await uow.deliveries.of_event(event.event_id)
        named = {d.endpoint_id for d in earlier if d.endpoint_id is not None}
        live = {e.endpoint_id for e in await uow.endpoints.by_ids(sorted(named)) if e.active}
        kept = (d for d in earlier if d.endpoint_id is None or d.endpoint_id in live)
        return list(dict.fromkeys((d.endpoint_id, d.url) for d in kept))
