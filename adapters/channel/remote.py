"""`ChannelPort` over HTTP, to a remote channel service (`paygate serve-channel`).

The service runs the sandbox, so notifications from it are sandbox notifications, signed
with the same `PAYGATE_SANDBOX_SECRET`, and this client verifies them itself. Every call
that moves money is one `_send` (post with its idempotency key, read the outcome) and
every query one `_ask`: the wire format lives in `adapters.channel.wire`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TypeVar
from urllib.parse import quote

import httpx
import msgspec

from adapters.channel import wire
from adapters.channel.outcomes import unanswered_query, without_answer
from adapters.channel.sandbox_notifications import parse_sandbox_notification
from adapters.resilience import DependencyError, RemoteService
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
from domain.card import CardDetails

R = TypeVar("R", ChargeResult, RefundResult)
_FROM_WIRE: dict[type, Callable[[wire.ResultBody], ChargeResult | RefundResult]] = {
    ChargeResult: wire.charge_result_from_wire,
    RefundResult: wire.refund_result_from_wire,
}


class UnusableAnswer(Exception):
    """The service answered, but not with a result: the outcome is not known."""


def _token(body: bytes) -> str:
    return msgspec.json.decode(body, type=wire.TokenBody).token


class RemoteChannelClient:
    """Every POST carries the request's idempotency key, so all of them may be retried."""

    def __init__(self, service: RemoteService, sandbox_secret: str, name: str = "sandbox") -> None:
        self.name = name
        self._service = service
        self._secret = sandbox_secret

    async def aclose(self) -> None:
        await self._service.aclose()

    async def tokenize(self, card: CardDetails) -> str:
        """Raises `Unavailable`: without a token the payment cannot wait for review."""
        body = msgspec.json.encode(wire.card_to_wire(card))
        return await self._service.exchange(wire.TOKENS_PATH, body, _token)

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        body = wire.charge_to_wire(request)
        return await self._send(wire.CHARGES_PATH, body, request.idempotency_key, ChargeResult)

    async def authorize(self, request: ChargeRequest) -> ChargeResult:
        body = wire.charge_to_wire(request)
        path, key = wire.AUTHORIZATIONS_PATH, request.idempotency_key
        return await self._send(path, body, key, ChargeResult)

    async def capture(self, request: CaptureRequest) -> ChargeResult:
        body = wire.capture_to_wire(request)
        return await self._send(wire.CAPTURES_PATH, body, request.idempotency_key, ChargeResult)

    async def void(self, request: VoidRequest) -> ChargeResult:
        body = wire.void_to_wire(request)
        return await self._send(wire.VOIDS_PATH, body, request.idempotency_key, ChargeResult)

    async def refund(self, request: RefundRequest) -> RefundResult:
        body = wire.refund_to_wire(request)
        return await self._send(wire.REFUNDS_PATH, body, request.idempotency_key, RefundResult)

    async def query_charge(self, payment_no: str, reference: str | None) -> ChargeResult:
        return await self._ask(wire.CHARGES_PATH, payment_no, reference, ChargeResult)

    async def query_capture(self, payment_no: str, reference: str | None) -> ChargeResult:
        return await self._ask(wire.CAPTURES_PATH, payment_no, reference, ChargeResult)

    async def query_void(self, payment_no: str, reference: str | None) -> ChargeResult:
        return await self._ask(wire.VOIDS_PATH, payment_no, reference, ChargeResult)

    async def query_refund(self, refund_no: str, reference: str | None) -> RefundResult:
        return await self._ask(wire.REFUNDS_PATH, refund_no, reference, RefundResult)

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> ChannelEvent:
        return parse_sandbox_notification(headers, body, now, self._secret)

    async def _send(self, path: str, body: msgspec.Struct, key: str, kind: type[R]) -> R:
        """A money-moving POST: no answer is `without_answer` (unknown, or not sent); a
        refusal (4xx) moved no money."""
        try:
            response = await self._service.post_json(path, msgspec.json.encode(body), key)
        except DependencyError as exc:
            return without_answer(kind, exc)
        return _answer(response, kind, refused=Outcome.FAILED)

    async def _ask(self, collection: str, key: str, reference: str | None, kind: type[R]) -> R:
        """A query: no answer, or a refusal, tells the reconciler nothing."""
        params = {"reference": reference} if reference else None
        path = f"{collection}/{quote(key, safe='')}"
        try:
            response = await self._service.request("GET", path, idempotent=True, params=params)
        except DependencyError as exc:
            return unanswered_query(kind, exc)
        return _answer(response, kind, refused=Outcome.UNKNOWN)


def _answer(response: httpx.Response, kind: type[R], refused: Outcome) -> R:
    """A 4xx means the service refused the request: a refused charge moved no money
    (`refused=FAILED`), a refused query tells nothing (`refused=UNKNOWN`). A 200 we cannot
    read means something may have happened: unknown."""
    if 400 <= response.status_code < 500:
        return kind(refused, None, "invalid_request", response.text[:200])
    try:
        if response.status_code != 200:
            raise UnusableAnswer(f"answered {response.status_code}: {response.text[:200]}")
        result = _FROM_WIRE[kind](msgspec.json.decode(response.content, type=wire.ResultBody))
    except (UnusableAnswer, msgspec.DecodeError, UnicodeDecodeError) as exc:
        return kind(Outcome.UNKNOWN, failure_message=str(exc))
    assert isinstance(result, kind)
    return result

