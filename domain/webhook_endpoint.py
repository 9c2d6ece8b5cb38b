"""A merchant's webhook endpoint: a URL, the event types it wants, and its signing secret.

Rotating the secret keeps the previous one signing for a day, so the merchant can deploy
the new secret while every delivery still verifies with the old one (each delivery then
carries two signatures).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.events import Subscription

ROLLOVER = timedelta(hours=24)


@dataclass(slots=True, kw_only=True)
class WebhookEndpoint:
    """Secrets are kept sealed by an adapter; the domain never sees them in clear."""

    endpoint_id: str
    merchant_id: str
    url: str
    subscription: Subscription
    secret_sealed: str = field(repr=False)
    created_at: datetime
    previous_secret_sealed: str | None = field(default=None, repr=False)
    previous_expires_at: datetime | None = None
    deleted_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.deleted_at is None

    def wants(self, event_type: str) -> bool:
        return self.active and self.subscription.wants(event_type)

    def rotate(self, sealed: str, now: datetime) -> None:
        """The new secret signs from now on; the one it replaces for `ROLLOVER` more."""
        self.previous_secret_sealed = self.secret_sealed
        self.previous_expires_at = now + ROLLOVER
        self.secret_sealed = sealed

    def signing_secrets(self, now: datetime) -> list[str]:
        """The sealed secrets a delivery at `now` is signed with, newest first."""
        secrets = [self.secret_sealed]
        if (
            self.previous_secret_sealed is not None
            and self.previous_expires_at is not None
            and now < self.previous_expires_at
        ):
            secrets.append(self.previous_secret_sealed)
        return secrets

    def delete(self, now: datetime) -> None:
        self.deleted_at = now
