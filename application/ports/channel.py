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


NOT_SENT = "channel_unavailable"
"""The failure code of a call the channel certainly never received (breaker open,
connection refused): nothing moved, and it may be asked again."""
NOT_CAPTURED = "not_captured"
"""What a capture query answers when the channel holds the authorization uncaptured: the
capture never arrived, so the hold stands."""


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """Either a card (used once, never stored) or a token from `tokenize`."""

    payment_no: str
    merchant_id: str
    amount: Money
    card: CardDetails | None = None
    token: str | None = None
    description: str | None = None
    attempt_key: str | None = None  # a routed payment's attempt (docs/adr/0025)

    @property
    def idempotency_key(self) -> str:
        """Per attempt: the channel refuses to charge one attempt twice, and a later
        attempt on another channel is another charge there."""
        return self.attempt_key or self.payment_no


@dataclass(frozen=True, slots=True)
class ChargeResult:
    """The answer to a charge, an authorization, a capture or a void (or to a query of
    one). An authorization that went through may say until when the card holds it."""

    outcome: Outcome
    reference: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    capture_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class CaptureRequest:
    """Take `amount` of an authorization (at most what it holds); the rest is released."""

    payment_no: str
    merchant_id: str
    amount: Money
    reference: str | None = None  # the authorization's reference at the channel

    @property
    def idempotency_key(self) -> str:
        return f"capture-{self.payment_no}"  # one capture per payment


@dataclass(frozen=True, slots=True)
class VoidRequest:
    """Release an authorization without capturing anything."""

    payment_no: str
    merchant_id: str
    reference: str | None = None

    @property
    def idempotency_key(self) -> str:
        return f"void-{self.payment_no}"


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
    FAILED with `channel_unavailable` (`NOT_SENT`); one that sent and heard nothing
    answers UNKNOWN.
    """

    name: str

    async def tokenize(self, card: CardDetails) -> str:
        """Exchange a card for a channel token, for a charge that happens later (review)."""
        ...

    async def charge(self, request: ChargeRequest) -> ChargeResult: ...

    async def authorize(self, request: ChargeRequest) -> ChargeResult:
        """Hold the amount on the card without capturing it (a `manual` payment)."""
        ...

    async def capture(self, request: CaptureRequest) -> ChargeResult:
        """Capture part or all of an authorization, once."""
        ...

    async def void(self, request: VoidRequest) -> ChargeResult:
        """Release an authorization that captured nothing."""
        ...

    async def refund(self, request: RefundRequest) -> RefundResult: ...

    async def query_charge(self, payment_no: str, reference: str | None) -> ChargeResult:
        """The channel's view of a charge or an authorization, for the reconciler."""
        ...

    async def query_capture(self, payment_no: str, reference: str | None) -> ChargeResult:
        """Whether the payment's capture happened: FAILED `not_captured` when the
        authorization stands uncaptured, for the reconciler."""
        ...

    async def query_void(self, payment_no: str, reference: str | None) -> ChargeResult:
        """Whether the payment's void happened, for the reconciler."""
        ...

    async def query_refund(self, refund_no: str, reference: str | None) -> RefundResult: ...

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> ChannelEvent:
        """Verify and decode an incoming notification; raises `InvalidSignature`."""
        ...


Channels = Mapping[str, ChannelPort]
