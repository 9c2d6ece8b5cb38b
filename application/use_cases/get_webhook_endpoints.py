"""A merchant's webhook endpoints, or one of them; deleted ones are gone from its view."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import NotFound
from application.ports.storage import UnitOfWorkFactory
from domain.webhook_endpoint import WebhookEndpoint


@dataclass(frozen=True, slots=True)
class ListWebhookEndpoints:
    uow: UnitOfWorkFactory

    async def __call__(self, merchant_id: str) -> list[WebhookEndpoint]:
        """Oldest first."""
        async with self.uow(read_only=True, snapshot=False) as uow:
            return await uow.endpoints.active([merchant_id])


@dataclass(frozen=True, slots=True)
class GetWebhookEndpoint:
    uow: UnitOfWorkFactory

    async def __call__(self, endpoint_id: str, merchant_id: str) -> WebhookEndpoint:
        """Another merchant's endpoint is indistinguishable from a missing one."""
        async with self.uow(read_only=True, snapshot=False) as uow:
            endpoint = await uow.endpoints.get(endpoint_id, merchant_id)
        if endpoint is None or not endpoint.active:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        return endpoint
