"""Outgoing webhook events, for operators."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports.storage import UnitOfWorkFactory, WebhookEvent, WebhookStatus


@dataclass(frozen=True, slots=True)
class ListWebhooks:
    uow: UnitOfWorkFactory

    async def __call__(
        self, merchant_id: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[WebhookEvent]:
        async with self.uow(read_only=True) as uow:
            return await uow.webhooks.list(
                merchant_id, WebhookStatus(status) if status else None, limit
            )
