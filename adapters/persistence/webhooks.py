"""The webhook_events table: the outbox of merchant notifications."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from opentelemetry.propagate import inject
from sqlalchemy import Row, bindparam, select

from adapters.persistence.schema import webhook_events as t
from adapters.persistence.sql import Repository
from application.ports.storage import WebhookEvent, WebhookStatus

MUTABLE = ("next_attempt_at", "attempts", "status", "last_error", "delivered_at")


def event_to_row(e: WebhookEvent) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "merchant_id": e.merchant_id,
        "type": e.type,
        "url": e.url,
        "body": e.body,
        "created_at": e.created_at,
        "next_attempt_at": e.next_attempt_at,
        "attempts": e.attempts,
        "status": e.status.value,
        "last_error": e.last_error,
        "delivered_at": e.delivered_at,
        "traceparent": e.traceparent,
    }


def event_from_row(r: Row[Any]) -> WebhookEvent:
    return WebhookEvent(
        event_id=r.event_id,
        merchant_id=r.merchant_id,
        type=r.type,
        url=r.url,
        body=r.body,
        created_at=r.created_at,
        next_attempt_at=r.next_attempt_at,
        attempts=r.attempts,
        status=WebhookStatus(r.status),
        last_error=r.last_error,
        delivered_at=r.delivered_at,
        traceparent=r.traceparent,
    )


def _current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


_INSERT = t.insert()
_BY_ID = select(t).where(t.c.event_id == bindparam("e"))
_UPDATE = t.update().where(t.c.event_id == bindparam("b_event_id"))
_DUE = (
    select(t.c.event_id)
    .where(t.c.status == WebhookStatus.PENDING.value, t.c.next_attempt_at <= bindparam("now"))
    .order_by(t.c.next_attempt_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    t.update()
    .where(t.c.event_id.in_(_DUE.scalar_subquery()))
    .values(next_attempt_at=bindparam("lease_until"))
    .returning(*t.c)
)


class SqlWebhookRepository(Repository):
    __slots__ = ()

    async def add(self, event: WebhookEvent) -> None:
        """Written with the trace it is written in (unless it names one already)."""
        if event.traceparent is None:
            event.traceparent = _current_traceparent()
        await self._execute(_INSERT, event_to_row(event))

    async def get(self, event_id: str) -> WebhookEvent | None:
        row = (await self._execute(_BY_ID, {"e": event_id})).first()
        return event_from_row(row) if row is not None else None

    async def update(self, event: WebhookEvent) -> None:
        row = event_to_row(event)
        params = {name: row[name] for name in MUTABLE}
        params["b_event_id"] = event.event_id
        await self._execute(_UPDATE, params)

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> builtins.list[WebhookEvent]:
        """One statement. PostgreSQL skips rows another worker is claiming (SKIP LOCKED);
        SQLite needs nothing more, its write unit already excludes other writers."""
        result = await self._execute(
            _CLAIM, {"now": now, "lease_until": lease_until, "limit": limit}
        )
        events = [event_from_row(row) for row in result]
        return sorted(events, key=lambda e: (e.created_at, e.event_id))

    async def list(
        self, merchant_id: str | None = None, status: WebhookStatus | None = None, limit: int = 50
    ) -> builtins.list[WebhookEvent]:
        """Newest first."""
        statement = select(t).order_by(t.c.created_at.desc(), t.c.event_id.desc()).limit(limit)
        if merchant_id is not None:
            statement = statement.where(t.c.merchant_id == merchant_id)
        if status is not None:
            statement = statement.where(t.c.status == status.value)
        return [event_from_row(row) for row in await self._execute(statement)]
