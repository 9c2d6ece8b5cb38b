"""`ChannelPort` over HTTP, to a remote channel service (`paygate serve-channel`).

The service runs the sandbox, so notifications from it are sandbox notifications, signed
with the same `PAYGATE_SANDBOX_SECRET`, and this client verifies them itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TypeVar
from urllib.parse import quote

import httpx
import msgspec

from adapters.channel import wire
from adapters.channel.outcomes import (
    charge_without_answer,
    refund_without_answer,
    unknown_charge,
    unknown_refund,
)
from adapters.channel.sandbox_notifications import parse_sandbox_notification
from adapters.resilience import DependencyError, RemoteService
from application.errors import Unavailable
from application.ports.channel import (
    ChannelEvent,
    ChargeRequest,
    ChargeResult,
    Outcome,
    RefundRequest,
    RefundResult,
)
from domain.card import CardDetails

R = TypeVar("R", ChargeResult, RefundResult)
_JSON = {"Content-Type": "application/json"}


class UnusableAnswer(Exception):
    """The service answered, but not with a result: the outcome is not known."""


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
        try:
            response = await self._post(wire.TOKENS_PATH, wire.card_to_wire(card), None)
            return msgspec.json.decode(_ok(response), type=wire.TokenBody).token
        except (DependencyError, UnusableAnswer, msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise Unavailable(f"channel service could not tokenize: {exc}") from exc

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        body = wire.charge_to_wire(request)
        try:
            response = await self._post(wire.CHARGES_PATH, body, request.idempotency_key)
        except DependencyError as exc:
            return charge_without_answer(exc)
        return _answer(response, wire.charge_result_from_wire, ChargeResult, Outcome.FAILED)

    async def refund(self, request: RefundRequest) -> RefundResult:
        body = wire.refund_to_wire(request)
        try:
            response = await self._post(wire.REFUNDS_PATH, body, request.idempotency_key)
        except DependencyError as exc:
            return refund_without_answer(exc)
        return _answer(response, wire.refund_result_from_wire, RefundResult, Outcome.FAILED)

    async def query_charge(self, payment_no: str, reference: str | None) -> ChargeResult:
        try:
            response = await self._get(wire.CHARGES_PATH, payment_no, reference)
        except DependencyError as exc:
            return unknown_charge(exc)
        return _answer(response, wire.charge_result_from_wire, ChargeResult, Outcome.UNKNOWN)

    async def query_refund(self, refund_no: str, reference: str | None) -> RefundResult:
        try:
            response = await self._get(wire.REFUNDS_PATH, refund_no, reference)
        except DependencyError as exc:
            return unknown_refund(exc)
        return _answer(response, wire.refund_result_from_wire, RefundResult, Outcome.UNKNOWN)

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> ChannelEvent:
        return parse_sandbox_notification(headers, body, now, self._secret)

    async def _post(self, path: str, body: object, key: str | None) -> httpx.Response:
        headers = {**_JSON, "Idempotency-Key": key} if key else _JSON
        return await self._service.request(
            "POST", path, idempotent=True, content=msgspec.json.encode(body), headers=headers
        )

    async def _get(self, collection: str, key: str, reference: str | None) -> httpx.Response:
        params = {"reference": reference} if reference else None
        path = f"{collection}/{quote(key, safe='')}"
        return await self._service.request("GET", path, idempotent=True, params=params)


def _ok(response: httpx.Response) -> bytes:
    if response.status_code != 200:
        raise UnusableAnswer(f"answered {response.status_code}: {response.text[:200]}")
    return response.content


def _answer(
    response: httpx.Response,
    convert: Callable[[wire.ResultBody], R],
    kind: type[R],
    refused: Outcome,
) -> R:
    """A 4xx means the service refused the request: a refused charge moved no money
    (`refused=FAILED`), a refused query tells nothing (`refused=UNKNOWN`). A 200 we cannot
    read means something may have happened: unknown."""
    if 400 <= response.status_code < 500:
        return kind(refused, None, "invalid_request", response.text[:200])
    try:
        return convert(msgspec.json.decode(_ok(response), type=wire.ResultBody))
    except (UnusableAnswer, msgspec.DecodeError, UnicodeDecodeError) as exc:
        return kind(Outcome.UNKNOWN, failure_message=str(exc))
