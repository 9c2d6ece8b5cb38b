"""Deliveries: an event on its way to one destination, due at once."""

from __future__ import annotations

from datetime import datetime

from application.ports.events import Announced, Event, OutboxEntry, WebhookDelivery
from application.ports.platform import IdGenerator
from domain.webhook_endpoint import WebhookEndpoint


def new_delivery(
    ids: IdGenerator,
    event: Event,
    endpoint_id: str | None,
    url: str,
    now: datetime,
    traceparent: str | None = None,
) -> WebhookDelivery:
    """`endpoint_id` None: the payment's notify_url."""
    return WebhookDelivery(
        delivery_id=ids.new_id("dlv"),
        event_id=event.event_id,
        merchant_id=event.merchant_id,
        type=event.type,
        endpoint_id=endpoint_id,
        url=url,
        created_at=now,
        next_attempt_at=now,
        traceparent=traceparent,
    )


class Fanout:
    """The deliveries of published events: one per endpoint that wants the event's type,
    and one to the payment's notify_url when the event is one the contract sends there."""

    def __init__(self, endpoints: list[WebhookEndpoint], ids: IdGenerator, now: datetime):
        self._endpoints: dict[str, list[WebhookEndpoint]] = {}
        for endpoint in endpoints:
            self._endpoints.setdefault(endpoint.merchant_id, []).append(endpoint)
        self._ids, self._now = ids, now
        self.deliveries: list[WebhookDelivery] = []

    def add(self, event: Event, announced: Announced, entry: OutboxEntry) -> None:
        for endpoint in self._endpoints.get(event.merchant_id, []):
            if endpoint.wants(event.type):
                self._deliver(event, endpoint.endpoint_id, endpoint.url, entry.traceparent)
        if announced.notify and entry.notify_url:
            self._deliver(event, None, entry.notify_url, entry.traceparent)

    def _deliver(
        self, event: Event, endpoint_id: str | None, url: str, traceparent: str | None
    ) -> None:
        self.deliveries.append(
            new_delivery(self._ids, event, endpoint_id, url, self._now, traceparent)
        )
