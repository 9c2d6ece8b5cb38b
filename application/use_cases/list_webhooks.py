"""Outgoing webhook deliveries, for operators."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import ValidationFailed
from application.ports.events import DeliveryStatus, WebhookDelivery
from application.ports.storage import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class ListWebhooks:
    uow: UnitOfWorkFactory

    async def __call__(
        self, merchant_id: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[WebhookDelivery]:
        try:
            wanted = DeliveryStatus(status) if status else None
        except ValueError:
            known = ", ".join(s.value for s in DeliveryStatus)
            raise ValidationFailed(f"status must be one of {known}") from None
        async with self.uow(read_only=True) as uow:
            return await uow.deliveries.list(merchant_id, wanted, limit)
