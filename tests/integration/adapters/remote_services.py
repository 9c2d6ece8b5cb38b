"""The three remote services in miniature, as serve-risk / serve-order / serve-channel will
be: a bare ASGI app around the shared wire modules and the in-process adapters."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import msgspec
from threaded_server import read_body, respond

from adapters.channel.sandbox import SandboxChannel
from adapters.channel.wire_server import dispatch
from adapters.order.remote import ORDERS_PATH, decode_order, decode_status, encode_created
from adapters.risk import RuleEngine
from adapters.risk.wire import ASSESS_PATH, MalformedRiskRequest, answer_assessment
from application.ports.external import OrderRequest
from domain.errors import DomainError


class RemoteServices:
    def __init__(self, engine: RuleEngine, sandbox: SandboxChannel) -> None:
        self.engine = engine
        self.sandbox = sandbox
        self.orders: dict[tuple[str, str], OrderRequest] = {}
        self.order_statuses: dict[str, str] = {}
        self.traceparents: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if "traceparent" in headers:
            self.traceparents.append(headers["traceparent"])
        body = await read_body(receive)
        status, answer = await self._route(scope, body)
        await respond(send, status, answer)

    async def _route(self, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
        path, method = scope["path"], scope["method"]
        try:
            if path == ASSESS_PATH:
                return 200, await answer_assessment(self.engine, body)
            if path.startswith(ORDERS_PATH):
                return self._orders(scope["raw_path"].decode(), body)
        except (MalformedRiskRequest, msgspec.DecodeError, DomainError) as exc:
            return 422, msgspec.json.encode({"error": str(exc)})
        query = dict(parse_qsl(scope["query_string"].decode()))
        return await dispatch(self.sandbox, method, scope["raw_path"].decode(), query, body)

    def _orders(self, raw_path: str, body: bytes) -> tuple[int, bytes]:
        if raw_path == ORDERS_PATH:
            order = decode_order(body)
            self.orders[(order.merchant_id, order.order_no)] = order
            return 201, encode_created(f"{order.merchant_id}/{order.order_no}")
        self.order_statuses[raw_path] = decode_status(body)
        return 200, b"{}"
