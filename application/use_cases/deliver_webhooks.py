"""Deliver due merchant webhooks, signed, with retries over about a day."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports.platform import Clock, SecretVault, WebhookSender
from application.ports.storage import UnitOfWorkFactory, WebhookEvent, WebhookStatus

log = logging.getLogger(__name__)

# Waits after each failed attempt; about 24 h in all, then the event is dead.
RETRY_SCHEDULE = tuple(
    timedelta(seconds=s)
    for s in (10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 21600, 21600, 14400)
)
LEASE = timedelta(seconds=60)


def sign_webhook(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


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
            events = await uow.webhooks.claim_due(now, now + LEASE, self.batch)
            await uow.commit()
        counts = {"delivered": 0, "retrying": 0, "dead": 0}
        if not events:
            return counts
        secrets = await self._sealed_secrets({event.merchant_id for event in events})
        for event in events:
            counts[await self._deliver(event, secrets.get(event.merchant_id))] += 1
        return counts

    async def _sealed_secrets(self, merchant_ids: set[str]) -> dict[str, str]:
        """Each merchant of the batch is read once, however many events it has."""
        sealed: dict[str, str] = {}
        async with self.uow(read_only=True) as uow:
            for merchant_id in merchant_ids:
                merchant = await uow.merchants.get(merchant_id)
                if merchant is not None:
                    sealed[merchant_id] = merchant.webhook_secret_sealed
        return sealed

    async def _deliver(self, event: WebhookEvent, sealed: str | None) -> str:
        body = event.body.encode()
        error: str | None = None
        try:
            secret = self.vault.open(sealed) if sealed else ""
            headers = {
                "Content-Type": "application/json",
                "X-Paygate-Signature": sign_webhook(
                    secret, body, int(self.clock.now().timestamp())
                ),
            }
            status = await self.sender.post(event.url, body, headers, event.traceparent)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        return await self._record(event, error, self.clock.now())

    async def _record(self, event: WebhookEvent, error: str | None, now: datetime) -> str:
        event.attempts += 1
        event.last_error = error
        if error is None:
            event.status, event.delivered_at = WebhookStatus.DELIVERED, now
        elif event.attempts > len(RETRY_SCHEDULE):
            event.status = WebhookStatus.DEAD
            log.warning(
                "webhook %s is dead after %d attempts: %s", event.event_id, event.attempts, error
            )
        else:
            event.next_attempt_at = now + RETRY_SCHEDULE[event.attempts - 1]
        async with self.uow() as uow:
            await uow.webhooks.update(event)
            await uow.commit()
        return {WebhookStatus.DELIVERED: "delivered", WebhookStatus.DEAD: "dead"}.get(
            event.status, "retrying"
        )
