"""Payment channels: the sandbox acquirer, Stripe, or a remote channel service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.card import CardDetails
from domain.money import Money


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"  # sent, but no answer: the payment waits in `processing`


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """Either a card (used once, never stored) or a token from `tokenize`."""

    payment_no: str
    merchant_id: str
    amount: Money
    card: CardDetails | None = None
    token: str | None = None
    description: str | None = None

    @property
    def idempotency_key(self) -> str:
        return self.payment_no


@dataclass(frozen=True, slots=True)
class ChargeResult:
    outcome: Outcome
    reference: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True, slots=True)
class RefundRequest:
    refund_no: str
    payment_no: str
    amount: Money
    charge_reference: str | None = None

    @property
    def idempotency_key(self) -> str:
        return self.refund_no


@dataclass(frozen=True, slots=True)
class RefundResult:
    outcome: Outcome
    reference: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelEvent:
    """A verified notification from a channel."""

    event_id: str
    type: str  # charge.succeeded | charge.failed | refund.succeeded | refund.failed
    payment_no: str
    refund_no: str | None = None
    reference: str | None = None
    failure_code: str | None = None


class ChannelPort(Protocol):
    """Moves money. Every call is idempotent on the request's idempotency key.

    A channel that knows nothing was sent (circuit open, connection refused) answers
    FAILED with `channel_unavailable`; one that sent and heard nothing answers UNKNOWN.
    """

    name: str

    async def tokenize(self, card: CardDetails) -> str:
        """Exchange a card for a channel token, for a charge that happens later (review)."""
        ...

    async def charge(self, request: ChargeRequest) -> ChargeResult: ...

    async def refund(self, request: RefundRequest) -> RefundResult: ...

    async def query_charge(self, payment_no: str, reference: str | None) -> ChargeResult:
        """The channel's view of a charge, for the reconciler."""
        ...

    async def query_refund(self, refund_no: str, reference: str | None) -> RefundResult: ...

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> ChannelEvent:
        """Verify and decode an incoming notification; raises `InvalidSignature`."""
        ...


Channels = Mapping[str, ChannelPort]
