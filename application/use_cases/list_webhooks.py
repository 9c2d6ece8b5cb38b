"""Outgoing webhook events, for operators."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import ValidationFailed
from application.ports.storage import UnitOfWorkFactory, WebhookEvent, WebhookStatus


@dataclass(frozen=True, slots=True)
class ListWebhooks:
    uow: UnitOfWorkFactory

    async def __call__(
        self, merchant_id: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[WebhookEvent]:
        try:
            wanted = WebhookStatus(status) if status else None
        except ValueError:
            known = ", ".join(s.value for s in WebhookStatus)
            raise ValidationFailed(f"status must be one of {known}") from None
        async with self.uow(read_only=True) as uow:
            return await uow.webhooks.list(merchant_id, wanted, limit)
