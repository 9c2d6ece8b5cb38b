"""The event feed's storage: the outbox, published events, webhook endpoints, deliveries.

A change writes its events to the outbox in its own transaction (one entry per
transaction, however many events), in the statement that writes its payment's row. The
publisher, one at a time, moves committed entries into the feed, giving each event its
merchant's next `sequence`, and fans them out to deliveries. Only the publisher writes
events and sequences; the payment path only appends outbox entries (docs/adr/0020, 0036).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from domain.webhook_endpoint import WebhookEndpoint


@dataclass(frozen=True, slots=True)
class Announced:
    """An event as its transaction wrote it: it has no sequence until it is published."""

    event_id: str
    type: str
    data: dict[str, Any]  # the object as the API returns it after the change
    notify: bool = False  # also for the payment's notify_url (the contract's final states)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """The events of one committed transaction, in the order it made them."""

    merchant_id: str
    events: tuple[Announced, ...]
    created_at: datetime
    notify_url: str | None = None
    traceparent: str | None = None  # the trace that wrote it; its deliveries continue it
    # where the storage keeps it, given when it is read: its payment, and the length of
    # that payment's unpublished entries up to this one's end
    position: tuple[str, int] | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """A published event: immutable, `body` is exactly what the feed and webhooks send."""

    event_id: str
    merchant_id: str
    sequence: int
    type: str
    created_at: datetime
    body: str


@dataclass(frozen=True, slots=True)
class EventQuery:
    merchant_id: str
    after: int = 0
    type: str | None = None
    limit: int = 20


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(slots=True, kw_only=True)
class WebhookDelivery:
    """One event on its way to one destination: an endpoint, or a payment's notify_url."""

    delivery_id: str
    event_id: str
    merchant_id: str
    type: str
    endpoint_id: str | None  # None: the payment's notify_url, signed with the merchant's key
    url: str
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    status: DeliveryStatus = DeliveryStatus.PENDING
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    traceparent: str | None = None


class OutboxRepository(Protocol):
    """The publisher's side of the outbox. Entries are written with the payment they are
    about (`PaymentRepository.add` and `update`, `announce=`), in its statement."""

    async def oldest(self, limit: int) -> list[OutboxEntry]:
        """The committed entries of the `limit` payments whose entries have waited
        longest, each payment's in the order they were written."""
        ...

    async def oldest_created_at(self) -> datetime | None:
        """When the oldest entry not yet published was written; None when there is none."""
        ...

    async def remove(self, entries: builtins.list[OutboxEntry]) -> None:
        """Takes these entries (as `oldest` read them) out of the outbox; entries written
        since they were read stay."""
        ...


class EventRepository(Protocol):
    async def lock_publisher(self, now: datetime) -> None:
        """Held until the unit of work ends: publishers take turns, never overlap. `now`
        is kept as the publisher's last run."""
        ...

    async def add(self, events: builtins.list[Event]) -> None:
        """Raises on a second event with a merchant's sequence (unique in the database)."""
        ...

    async def get(self, event_id: str, merchant_id: str | None = None) -> Event | None: ...

    async def get_many(self, event_ids: builtins.list[str]) -> builtins.list[Event]: ...

    async def list(self, query: EventQuery) -> builtins.list[Event]:
        """The merchant's events after `query.after`, in sequence order, `limit` + 1 at most."""
        ...

    async def last_sequences(self, merchant_ids: builtins.list[str]) -> dict[str, int]:
        """The last sequence given to each merchant's events (absent: none yet)."""
        ...

    async def set_last_sequences(self, last: dict[str, int]) -> None: ...

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` events created before `before`, with their deliveries."""
        ...


class EndpointRepository(Protocol):
    async def add(self, endpoint: WebhookEndpoint) -> None: ...

    async def get(
        self, endpoint_id: str, merchant_id: str, *, for_update: bool = False
    ) -> WebhookEndpoint | None:
        """The merchant's endpoint, deleted or not; `for_update` locks it until commit."""
        ...

    async def update(self, endpoint: WebhookEndpoint) -> None: ...

    async def active(self, merchant_ids: builtins.list[str]) -> builtins.list[WebhookEndpoint]:
        """The endpoints not deleted of these merchants, oldest first."""
        ...

    async def by_ids(self, endpoint_ids: builtins.list[str]) -> builtins.list[WebhookEndpoint]: ...


class DeliveryRepository(Protocol):
    async def add(self, deliveries: builtins.list[WebhookDelivery]) -> None: ...

    async def update(self, delivery: WebhookDelivery) -> None: ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> builtins.list[WebhookDelivery]:
        """Pending deliveries due by `now`, pushed to `lease_until` so no other worker
        takes them."""
        ...

    async def of_event(self, event_id: str) -> builtins.list[WebhookDelivery]:
        """Oldest first."""
        ...

    async def list(
        self, merchant_id: str | None = None, status: DeliveryStatus | None = None,
        limit: int = 50,
    ) -> builtins.list[WebhookDelivery]:
        """Newest first."""
        ...

    async def stop_pending(self, endpoint_id: str, reason: str) -> int:
        """The endpoint's pending deliveries become dead with `reason`; how many."""
        ...
