"""A merchant deletes a webhook endpoint: nothing more is sent to it."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import NotFound
from application.ports.platform import Clock
from application.ports.storage import UnitOfWorkFactory
from domain.webhook_endpoint import WebhookEndpoint

STOPPED = "the webhook endpoint was deleted"


@dataclass(frozen=True, slots=True)
class DeleteWebhookEndpoint:
    """Kept as a row (deleted), so the deliveries already made to it still name it; its
    pending ones stop in the same transaction."""

    uow: UnitOfWorkFactory
    clock: Clock

    async def __call__(self, endpoint_id: str, merchant_id: str) -> WebhookEndpoint:
        async with self.uow() as uow:
            endpoint = await uow.endpoints.get(endpoint_id, merchant_id, for_update=True)
            if endpoint is None or not endpoint.active:
                raise NotFound(f"no webhook endpoint {endpoint_id}")
            endpoint.delete(self.clock.now())
            await uow.endpoints.update(endpoint)
            await uow.deliveries.stop_pending(endpoint_id, STOPPED)
            await uow.commit()
        return endpoint
