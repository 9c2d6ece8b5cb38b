"""Deliver due webhooks, signed, with retries over about a day."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports.events import DeliveryStatus, Event, WebhookDelivery
from application.ports.platform import Clock, SecretVault, WebhookSender
from application.ports.storage import UnitOfWorkFactory
from domain.webhook_endpoint import WebhookEndpoint

log = logging.getLogger(__name__)

# Waits after each failed attempt; about 24 h in all, then the delivery is dead.
RETRY_SCHEDULE = tuple(
    timedelta(seconds=s)
    for s in (10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 21600, 21600, 14400)
)
LEASE = timedelta(seconds=60)
GONE = "the event is no longer kept (past the retention)"
ENDPOINT_GONE = "the webhook endpoint was deleted"


def sign_webhook(secret: str, body: bytes, timestamp: int, *older: str) -> str:
    """`t={timestamp},v1={hmac}`, with one more `v1=` per older secret still signing."""
    signed = f"{timestamp}.".encode() + body
    digests = [
        hmac.new(key.encode(), signed, hashlib.sha256).hexdigest() for key in (secret, *older)
    ]
    return f"t={timestamp}," + ",".join(f"v1={digest}" for digest in digests)


@dataclass(frozen=True, slots=True)
class _Batch:
    """What the claimed deliveries need, read once for the whole batch."""

    events: dict[str, Event]
    endpoints: dict[str, WebhookEndpoint]
    merchant_secrets: dict[str, str]  # sealed, for notify_url deliveries


@dataclass(frozen=True, slots=True)
class DeliverWebhooks:
    uow: UnitOfWorkFactory
    clock: Clock
    vault: SecretVault
    sender: WebhookSender
    batch: int = 50

    async def __call__(self) -> dict[str, int]:
        now = self.clock.now()
        async with self.uow() as uow:
            deliveries = await uow.deliveries.claim_due(now, now + LEASE, self.batch)
            await uow.commit()
        counts = {"delivered": 0, "retrying": 0, "dead": 0}
        if not deliveries:
            return counts
        batch = await self._read(deliveries)
        for delivery in deliveries:
            counts[await self._deliver(delivery, batch)] += 1
        return counts

    async def _read(self, deliveries: list[WebhookDelivery]) -> _Batch:
        """Each event, endpoint and merchant of the batch is read once."""
        event_ids = sorted({d.event_id for d in deliveries})
        endpoint_ids = sorted({d.endpoint_id for d in deliveries if d.endpoint_id})
        notified = sorted({d.merchant_id for d in deliveries if d.endpoint_id is None})
        async with self.uow(read_only=True) as uow:
            events = {e.event_id: e for e in await uow.events.get_many(event_ids)}
            endpoints = {e.endpoint_id: e for e in await uow.endpoints.by_ids(endpoint_ids)}
            secrets: dict[str, str] = {}
            for merchant_id in notified:
                merchant = await uow.merchants.get(merchant_id)
                if merchant is not None:
                    secrets[merchant_id] = merchant.webhook_secret_sealed
        return _Batch(events, endpoints, secrets)

    def _secrets(self, delivery: WebhookDelivery, batch: _Batch) -> list[str] | None:
        """The sealed secrets that sign it; None when its endpoint was deleted."""
        if delivery.endpoint_id is None:
            return [batch.merchant_secrets.get(delivery.merchant_id, "")]
        endpoint = batch.endpoints.get(delivery.endpoint_id)
        if endpoint is None or not endpoint.active:
            return None
        return endpoint.signing_secrets(self.clock.now())

    async def _deliver(self, delivery: WebhookDelivery, batch: _Batch) -> str:
        event, sealed = batch.events.get(delivery.event_id), self._secrets(delivery, batch)
        if event is None or sealed is None:
            return await self._record(delivery, None, GONE if event is None else ENDPOINT_GONE,
                                      self.clock.now(), final=True)
        body = event.body.encode()
        status: int | None = None
        error: str | None = None
        try:
            secrets = [self.vault.open(s) if s else "" for s in sealed]
            headers = {
                "Content-Type": "application/json",
                "X-Paygate-Signature": sign_webhook(
                    secrets[0], body, int(self.clock.now().timestamp()), *secrets[1:]
                ),
            }
            status = await self.sender.post(
                delivery.url, body, headers, delivery.traceparent, endpoint=delivery.endpoint_id
            )
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        return await self._record(delivery, status, error, self.clock.now())

    async def _record(
        self, delivery: WebhookDelivery, status: int | None, error: str | None, now: datetime,
        *, final: bool = False,
    ) -> str:
        """`final`: not sent, and never will be (its event or endpoint is gone)."""
        if not final:
            delivery.attempts += 1
        delivery.last_status_code, delivery.last_error = status, error
        if error is None:
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        elif final or delivery.attempts > len(RETRY_SCHEDULE):
            delivery.status = DeliveryStatus.DEAD
            log.warning("webhook delivery %s of %s is dead after %d attempts: %s",
                        delivery.delivery_id, delivery.event_id, delivery.attempts, error)
        else:
            delivery.next_attempt_at = now + RETRY_SCHEDULE[delivery.attempts - 1]
        async with self.uow() as uow:
            await uow.deliveries.update(delivery)
            await uow.commit()
        return {DeliveryStatus.DELIVERED: "delivered", DeliveryStatus.DEAD: "dead"}.get(
            delivery.status, "retrying"
        )
