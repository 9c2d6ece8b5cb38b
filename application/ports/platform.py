"""Time, identifiers, secrets and outgoing webhooks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """The only source of the current time, so tests can move it."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class IdGenerator(Protocol):
    """Public identifiers such as `pay_...`; unique across processes and hosts."""

    def new_id(self, prefix: str) -> str: ...

    def new_secret(self) -> str:
        """A fresh random secret for a merchant key or a webhook signature."""
        ...


class TraceIds(Protocol):
    """The id of the trace the current call runs in, if any: the audit trail records it."""

    def __call__(self) -> str | None: ...


def no_trace_id() -> str | None:
    """A `TraceIds` for processes that trace nothing."""
    return None


class SecretVault(Protocol):
    """Seals merchant secrets so they are never stored in plain text."""

    def seal(self, plaintext: str) -> str: ...

    def open(self, sealed: str) -> str: ...


class WebhookSender(Protocol):
    """POSTs one signed merchant webhook; returns the HTTP status, raises on a network error."""

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        traceparent: str | None = None,
        *,
        endpoint: str | None = None,
    ) -> int:
        """`traceparent`: the trace the delivery belongs to (the one that wrote the event);
        `endpoint`: the webhook endpoint's id (None: a payment's notify_url)."""
        ...


class WebhookDestinations(Protocol):
    """Which URLs paygate may send webhooks to (docs/adr/0010): a merchant's endpoint is
    checked when it is registered, and again, as every destination, at each delivery."""

    async def refusal(self, url: str) -> str | None:
        """Why `url` may not be a destination (not https, not a public address, no such
        host), or None."""
        ...
