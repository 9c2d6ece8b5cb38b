"""The event feed's repositories over the in-memory database: the outbox, events,
webhook endpoints and deliveries, staged until the unit of work commits."""

from __future__ import annotations

import builtins
import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING

from application.ports.events import (
    DeliveryStatus,
    Event,
    EventQuery,
    OutboxEntry,
    WebhookDelivery,
)
from domain.webhook_endpoint import WebhookEndpoint

if TYPE_CHECKING:
    from tests.unit.fakes.storage import FakeDatabase, _Staged


class FakeOutboxRepository:
    def __init__(self, db: FakeDatabase, staged: _Staged) -> None:
        self._db, self._staged = db, staged

    def _committed(self) -> list[OutboxEntry]:
        removed = self._staged.outbox_removed
        return [e for i, e in sorted(self._db.outbox.items()) if i not in removed]

    async def oldest(self, limit: int) -> list[OutboxEntry]:
        return self._committed()[:limit]

    async def oldest_created_at(self) -> datetime | None:
        entries = self._committed()
        return min(e.created_at for e in entries) if entries else None

    async def remove(self, entries: builtins.list[OutboxEntry]) -> None:
        self._staged.outbox_removed.update(e.position[1] for e in entries if e.position)


class FakeEventRepository:
    def __init__(self, db: FakeDatabase, staged: _Staged) -> None:
        self._db, self._staged = db, staged

    def _all(self) -> dict[str, Event]:
        events = {**self._db.events, **self._staged.events}
        return {k: e for k, e in events.items() if k not in self._staged.events_removed}

    async def lock_publisher(self, now: datetime) -> None:
        """One unit of work at a time already."""

    async def add(self, events: builtins.list[Event]) -> None:
        taken = {(e.merchant_id, e.sequence) for e in self._all().values()}
        for event in events:
            if event.event_id in self._all() or (event.merchant_id, event.sequence) in taken:
                raise AssertionError(f"event {event.event_id} (#{event.sequence}) published twice")
            taken.add((event.merchant_id, event.sequence))
            self._staged.events[event.event_id] = event

    async def get(self, event_id: str, merchant_id: str | None = None) -> Event | None:
        event = self._all().get(event_id)
        return event if event is not None and merchant_id in (None, event.merchant_id) else None

    async def get_many(self, event_ids: builtins.list[str]) -> builtins.list[Event]:
        return [e for e in self._all().values() if e.event_id in event_ids]

    async def list(self, query: EventQuery) -> builtins.list[Event]:
        rows = sorted(
            (
                e
                for e in self._all().values()
                if e.merchant_id == query.merchant_id
                and e.sequence > query.after
                and query.type in (None, e.type)
            ),
            key=lambda e: e.sequence,
        )
        return rows[: query.limit + 1]

    async def last_sequences(self, merchant_ids: builtins.list[str]) -> dict[str, int]:
        last = {**self._db.last_sequences, **self._staged.last_sequences}
        return {m: last[m] for m in merchant_ids if m in last}

    async def set_last_sequences(self, last: dict[str, int]) -> None:
        self._staged.last_sequences.update(last)

    async def prune(self, before: datetime, limit: int) -> int:
        old = sorted(
            (e for e in self._all().values() if e.created_at < before),
            key=lambda e: e.created_at,
        )[:limit]
        gone = {e.event_id for e in old}
        self._staged.events_removed.update(gone)
        deliveries = {**self._db.deliveries, **self._staged.deliveries}
        self._staged.deliveries_removed.update(
            k for k, d in deliveries.items() if d.event_id in gone
        )
        return len(gone)


class FakeEndpointRepository:
    def __init__(self, db: FakeDatabase, staged: _Staged) -> None:
        self._db, self._staged = db, staged

    def _all(self) -> dict[str, WebhookEndpoint]:
        return {**self._db.endpoints, **self._staged.endpoints}

    async def add(self, endpoint: WebhookEndpoint) -> None:
        if endpoint.endpoint_id in self._all():
            raise AssertionError(f"endpoint {endpoint.endpoint_id} inserted twice")
        self._staged.endpoints[endpoint.endpoint_id] = dataclasses.replace(endpoint)

    async def get(
        self, endpoint_id: str, merchant_id: str, *, for_update: bool = False
    ) -> WebhookEndpoint | None:
        endpoint = self._all().get(endpoint_id)
        if endpoint is None or endpoint.merchant_id != merchant_id:
            return None
        return dataclasses.replace(endpoint)

    async def update(self, endpoint: WebhookEndpoint) -> None:
        if endpoint.endpoint_id not in self._all():
            raise AssertionError(f"update of endpoint {endpoint.endpoint_id} never added")
        self._staged.endpoints[endpoint.endpoint_id] = dataclasses.replace(endpoint)

    async def active(self, merchant_ids: builtins.list[str]) -> builtins.list[WebhookEndpoint]:
        rows = [
            dataclasses.replace(e)
            for e in self._all().values()
            if e.merchant_id in merchant_ids and e.active
        ]
        return sorted(rows, key=lambda e: (e.created_at, e.endpoint_id))

    async def by_ids(self, endpoint_ids: builtins.list[str]) -> builtins.list[WebhookEndpoint]:
        return [dataclasses.replace(e) for k, e in self._all().items() if k in endpoint_ids]


class FakeDeliveryRepository:
    def __init__(self, db: FakeDatabase, staged: _Staged) -> None:
        self._db, self._staged = db, staged

    def _all(self) -> dict[str, WebhookDelivery]:
        rows = {**self._db.deliveries, **self._staged.deliveries}
        return {k: d for k, d in rows.items() if k not in self._staged.deliveries_removed}

    async def add(self, deliveries: builtins.list[WebhookDelivery]) -> None:
        for delivery in deliveries:
            if delivery.delivery_id in self._all():
                raise AssertionError(f"delivery {delivery.delivery_id} inserted twice")
            self._staged.deliveries[delivery.delivery_id] = dataclasses.replace(delivery)

    async def update(self, delivery: WebhookDelivery) -> None:
        if delivery.delivery_id not in self._all():
            raise AssertionError(f"update of delivery {delivery.delivery_id} never added")
        self._staged.deliveries[delivery.delivery_id] = dataclasses.replace(delivery)

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> builtins.list[WebhookDelivery]:
        due = sorted(
            (
                d
                for d in self._all().values()
                if d.status is DeliveryStatus.PENDING and d.next_attempt_at <= now
            ),
            key=lambda d: (d.next_attempt_at, d.created_at, d.delivery_id),
        )[:limit]
        claimed = [dataclasses.replace(d, next_attempt_at=lease_until) for d in due]
        for delivery in claimed:
            self._staged.deliveries[delivery.delivery_id] = dataclasses.replace(delivery)
        return sorted(claimed, key=lambda d: (d.created_at, d.delivery_id))

    async def of_event(self, event_id: str) -> builtins.list[WebhookDelivery]:
        rows = [dataclasses.replace(d) for d in self._all().values() if d.event_id == event_id]
        return sorted(rows, key=lambda d: (d.created_at, d.delivery_id))

    async def list(
        self, merchant_id: str | None = None, status: DeliveryStatus | None = None,
        limit: int = 50,
    ) -> builtins.list[WebhookDelivery]:
        rows = [
            dataclasses.replace(d)
            for d in self._all().values()
            if merchant_id in (None, d.merchant_id) and status in (None, d.status)
        ]
        return sorted(rows, key=lambda d: (d.created_at, d.delivery_id), reverse=True)[:limit]

    async def stop_pending(self, endpoint_id: str, reason: str) -> int:
        pending = [
            d for d in self._all().values()
            if d.endpoint_id == endpoint_id and d.status is DeliveryStatus.PENDING
        ]
        for delivery in pending:
            self._staged.deliveries[delivery.delivery_id] = dataclasses.replace(
                delivery, status=DeliveryStatus.DEAD, last_error=reason
            )
        return len(pending)
