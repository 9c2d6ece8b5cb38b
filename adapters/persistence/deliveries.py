"""The webhook_deliveries table: an event on its way to one destination, with its attempts."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select

from adapters.persistence.schema import webhook_deliveries as t
from adapters.persistence.sql import Repository
from application.ports.events import DeliveryStatus, WebhookDelivery

MUTABLE = ("next_attempt_at", "attempts", "status", "last_status_code", "last_error",
           "delivered_at")


def delivery_to_row(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "delivery_id": d.delivery_id,
        "event_id": d.event_id,
        "merchant_id": d.merchant_id,
        "type": d.type,
        "endpoint_id": d.endpoint_id,
        "url": d.url,
        "created_at": d.created_at,
        "next_attempt_at": d.next_attempt_at,
        "attempts": d.attempts,
        "status": d.status.value,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "delivered_at": d.delivered_at,
        "traceparent": d.traceparent,
    }


def delivery_from_row(r: Row[Any]) -> WebhookDelivery:
    return WebhookDelivery(
        delivery_id=r.delivery_id,
        event_id=r.event_id,
        merchant_id=r.merchant_id,
        type=r.type,
        endpoint_id=r.endpoint_id,
        url=r.url,
        created_at=r.created_at,
        next_attempt_at=r.next_attempt_at,
        attempts=r.attempts,
        status=DeliveryStatus(r.status),
        last_status_code=r.last_status_code,
        last_error=r.last_error,
        delivered_at=r.delivered_at,
        traceparent=r.traceparent,
    )


_INSERT = t.insert()
_UPDATE = t.update().where(t.c.delivery_id == bindparam("b_delivery_id"))
_DUE = (
    select(t.c.delivery_id)
    .where(t.c.status == DeliveryStatus.PENDING.value, t.c.next_attempt_at <= bindparam("now"))
    .order_by(t.c.next_attempt_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    t.update()
    .where(t.c.delivery_id.in_(_DUE.scalar_subquery()))
    .values(next_attempt_at=bindparam("lease_until"))
    .returning(*t.c)
)
_OF_EVENT = (
    select(t).where(t.c.event_id == bindparam("e")).order_by(t.c.created_at, t.c.delivery_id)
)
_STOP = (
    t.update()
    .where(t.c.endpoint_id == bindparam("e"), t.c.status == DeliveryStatus.PENDING.value)
    .values(status=DeliveryStatus.DEAD.value, last_error=bindparam("reason"))
)


class SqlDeliveryRepository(Repository):
    __slots__ = ()

    async def add(self, deliveries: builtins.list[WebhookDelivery]) -> None:
        if deliveries:
            await self._execute(_INSERT, [delivery_to_row(d) for d in deliveries])

    async def update(self, delivery: WebhookDelivery) -> None:
        row = delivery_to_row(delivery)
        params = {name: row[name] for name in MUTABLE}
        params["b_delivery_id"] = delivery.delivery_id
        await self._execute(_UPDATE, params)

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> builtins.list[WebhookDelivery]:
        """One statement. PostgreSQL skips rows another worker is claiming (SKIP LOCKED);
        SQLite needs nothing more, its write unit already excludes other writers."""
        result = await self._execute(
            _CLAIM, {"now": now, "lease_until": lease_until, "limit": limit}
        )
        deliveries = [delivery_from_row(row) for row in result]
        return sorted(deliveries, key=lambda d: (d.created_at, d.delivery_id))

    async def of_event(self, event_id: str) -> builtins.list[WebhookDelivery]:
        return [delivery_from_row(row) for row in await self._execute(_OF_EVENT, {"e": event_id})]

    async def list(
        self, merchant_id: str | None = None, status: DeliveryStatus | None = None,
        limit: int = 50,
    ) -> builtins.list[WebhookDelivery]:
        """Newest first."""
        statement = (
            select(t).order_by(t.c.created_at.desc(), t.c.delivery_id.desc()).limit(limit)
        )
        if merchant_id is not None:
            statement = statement.where(t.c.merchant_id == merchant_id)
        if status is not None:
            statement = statement.where(t.c.status == status.value)
        return [delivery_from_row(row) for row in await self._execute(statement)]

    async def stop_pending(self, endpoint_id: str, reason: str) -> int:
        result = await self._execute(_STOP, {"e": endpoint_id, "reason": reason})
        return int(result.rowcount)
