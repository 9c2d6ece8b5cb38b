"""The sandbox acquirer: test cards with fixed outcomes, for development and tests.

Behaviour (api-contract.md, "Sandbox channel test cards"):
- 4000000000000002 declines (`card_declined`), 4000000000009995 declines
  (`insufficient_funds`), every other valid card succeeds.
- 4000000000000119 fails with `processing_error`. It is retryable from the merchant's side
  (a new payment may succeed on a real acquirer), but a charge is idempotent on its key: a
  retry of the *same* payment replays the same failure, as Stripe replays a stored error.
- 4000000000000259 answers UNKNOWN (the answer was "lost"); the charge itself succeeded,
  so a retry of the same key and `query_charge` both report SUCCEEDED.
- A refund succeeds, unless the sandbox was built with `fail_refunds=True` or the refund
  is of exactly `REFUND_FAILURE_AMOUNT` (13) minor units: then it fails `refund_declined`.
  The amount works across processes (a remote channel service), the flag in tests.
- An authorization is a charge that holds only, for `authorization_ttl`
  (`PAYGATE_SANDBOX_AUTHORIZATION_TTL` seconds, 7 days by default); its capture and void
  are in `adapters.channel.sandbox_holds`, with the two capture test cards.

Results are remembered per idempotency key in this process (bounded). Given a `book`
(`ChargeBook`: the gateway's database, `sandbox_charges`), each charge is also recorded
there before it is answered, so after a crash a query about a charge answers what was
charged (a declined card: FAILED) and a charge never made answers UNKNOWN `not_found`
(the reconciler fails a `pending` payment as `not_charged`). Without a book (the split
`paygate serve-channel`), a query about a charge this process never saw answers
SUCCEEDED, as before. Refunds, captures and voids are remembered in memory only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from adapters.channel.sandbox_cards import (
    Scenario,
    new_token,
    scenario_of,
    scenario_of_token,
    settled_result,
)
from adapters.channel.sandbox_holds import Holds, Memory
from adapters.channel.sandbox_holds import reference as _reference
from adapters.channel.sandbox_notifications import parse_sandbox_notification
from application.ports.channel import (
    CaptureRequest,
    ChannelEvent,
    ChargeRequest,
    ChargeResult,
    Outcome,
    RefundRequest,
    RefundResult,
    VoidRequest,
)
from domain.authorization import DEFAULT_AUTHORIZATION_LIFETIME
from domain.card import CardDetails

REFUND_FAILURE_AMOUNT = 13
NOT_FOUND = "not_found"  # a query's failure code for a charge the sandbox never made


class ChargeBook(Protocol):
    """Where the sandbox keeps its charges durably (`SqlSandboxCharges`)."""

    async def record(self, key: str, result: ChargeResult, now: datetime) -> None: ...

    async def find(self, key: str) -> ChargeResult | None: ...


class SandboxChannel:
    """`ChannelPort` for the sandbox. `secret` signs and verifies notifications."""

    name = "sandbox"

    def __init__(
        self,
        secret: str,
        *,
        latency: float = 0.0,
        fail_refunds: bool = False,
        capacity: int = 100_000,
        authorization_ttl: timedelta = DEFAULT_AUTHORIZATION_LIFETIME,
        book: ChargeBook | None = None,
    ) -> None:
        if not secret:
            raise ValueError("the sandbox needs a notification secret (PAYGATE_SANDBOX_SECRET)")
        self._secret = secret
        self._latency = latency
        self._fail_refunds = fail_refunds
        self._charges: Memory[ChargeResult] = Memory(capacity)
        self._refunds: Memory[RefundResult] = Memory(capacity)
        self._holds = Holds(authorization_ttl, capacity)
        self._book = book

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> SandboxChannel:
        """`PAYGATE_SANDBOX_SECRET` (required), `PAYGATE_SANDBOX_LATENCY_MS` (default 0) and
        `PAYGATE_SANDBOX_AUTHORIZATION_TTL` (seconds, default 7 days)."""
        latency_ms = float(environ.get("PAYGATE_SANDBOX_LATENCY_MS", "0"))
        ttl = environ.get("PAYGATE_SANDBOX_AUTHORIZATION_TTL")
        lifetime = timedelta(seconds=float(ttl)) if ttl else DEFAULT_AUTHORIZATION_LIFETIME
        return cls(environ.get("PAYGATE_SANDBOX_SECRET", ""), latency=latency_ms / 1000,
                   authorization_ttl=lifetime)

    def charges_for(self, key: str) -> int:
        """How many times money was really charged under this idempotency key (0 or 1)."""
        return self._charges.executions(key)

    def refunds_for(self, key: str) -> int:
        return self._refunds.executions(key)

    def moves_for(self, key: str) -> int:
        """How many times a capture or void was really made under this key (0 or 1)."""
        return self._holds.moves.executions(key)

    async def tokenize(self, card: CardDetails) -> str:
        await self._pause()
        return new_token(scenario_of(card.number))

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        return await self._charge(request, hold=False)

    async def authorize(self, request: ChargeRequest) -> ChargeResult:
        return await self._charge(request, hold=True)

    async def capture(self, request: CaptureRequest) -> ChargeResult:
        await self._pause()
        return self._holds.capture(request)

    async def void(self, request: VoidRequest) -> ChargeResult:
        await self._pause()
        return self._holds.void(request)

    async def query_capture(self, payment_no: str, reference: str | None) -> ChargeResult:
        await self._pause()
        return self._holds.query(f"capture-{payment_no}", "cap", payment_no)

    async def query_void(self, payment_no: str, reference: str | None) -> ChargeResult:
        await self._pause()
        return self._holds.query(f"void-{payment_no}", "void", payment_no)

    async def _charge(self, request: ChargeRequest, *, hold: bool) -> ChargeResult:
        await self._pause()
        key = request.idempotency_key
        known = self._charges.get(key)
        if known is not None:
            return known
        if request.card is not None and _expired(request.card):
            expired = ChargeResult(Outcome.FAILED, None, "expired_card", "the card has expired")
            await self._remember(key, expired)
            return expired
        scenario = self._scenario(request)
        if scenario is None:
            return ChargeResult(Outcome.FAILED, None, "invalid_token", "not a sandbox token")
        result = settled_result(scenario, _reference("ch", request.payment_no))
        if hold:
            result = self._holds.authorized(result, scenario, request.payment_no)
        await self._remember(key, result)
        return ChargeResult(Outcome.UNKNOWN) if scenario is Scenario.UNKNOWN else result

    async def _remember(self, key: str, result: ChargeResult) -> None:
        """In the book first: a charge whose record failed was not made (the caller hears
        an error, and nothing is remembered in memory either)."""
        if self._book is not None:
            await self._book.record(key, result, datetime.now(UTC))
        self._charges.put(key, result)

    async def refund(self, request: RefundRequest) -> RefundResult:
        await self._pause()
        key = request.idempotency_key
        known = self._refunds.get(key)
        if known is None:
            known = self._refund_result(request)
            self._refunds.put(key, known)
        return known

    async def query_charge(self, payment_no: str, reference: str | None) -> ChargeResult:
        """What the charge was, from memory or the book. With a book, a charge in neither
        was never made: UNKNOWN `not_found`. Without one the sandbox cannot tell a charge
        made by another process from one never made, and reports success, as the contract
        says of the unknown-outcome card."""
        await self._pause()
        known = self._charges.get(payment_no)
        if known is not None:
            return known
        if self._book is None:
            return ChargeResult(Outcome.SUCCEEDED, _reference("ch", payment_no))
        found = await self._book.find(payment_no)
        if found is None:
            return ChargeResult(Outcome.UNKNOWN, None, NOT_FOUND,
                                "the sandbox never received this charge")
        return found

    async def query_refund(self, refund_no: str, reference: str | None) -> RefundResult:
        await self._pause()
        known = self._refunds.get(refund_no)
        return known or RefundResult(Outcome.SUCCEEDED, _reference("re", refund_no))

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> ChannelEvent:
        return parse_sandbox_notification(headers, body, now, self._secret)

    def _refund_result(self, request: RefundRequest) -> RefundResult:
        reference = _reference("re", request.refund_no)
        if self._fail_refunds or request.amount.amount == REFUND_FAILURE_AMOUNT:
            return RefundResult(
                Outcome.FAILED, reference, "refund_declined", "the sandbox declined the refund"
            )
        return RefundResult(Outcome.SUCCEEDED, reference)

    @staticmethod
    def _scenario(request: ChargeRequest) -> Scenario | None:
        if request.card is not None:
            return scenario_of(request.card.number)
        return scenario_of_token(request.token) if request.token else None

    async def _pause(self) -> None:
        if self._latency > 0:
            await asyncio.sleep(self._latency)


def _expired(card: CardDetails) -> bool:
    """Declined like a real acquirer would: a card is good through the end of its month."""
    today = datetime.now(UTC)
    return card.expired(today.year, today.month)
