"""The server side of the remote channel wire format, free of any web framework.

`serve-channel` mounts `dispatch` on one catch-all route; the integration tests serve it
from a bare ASGI app. Every POST is the same three steps (decode the body into a port
request, call the port, encode its answer), so each route is one row of `POSTS`, and each
query one row of `QUERIES`: a new channel operation is a new row, not a new function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import msgspec

from adapters.channel import wire
from application.ports.channel import ChannelPort
from domain.errors import DomainError


class MalformedChannelRequest(ValueError):
    """Answer 422 with `ErrorBody`: the request can never succeed as sent."""


@dataclass(frozen=True, slots=True)
class Route:
    """One POST: its wire body, how that becomes the port's request, the port method that
    takes it, and how the port's answer goes back on the wire."""

    body: type[msgspec.Struct]
    request: Callable[[Any], Any]
    method: str
    answer: Callable[[Any], msgspec.Struct] = wire.result_to_wire


POSTS: dict[str, Route] = {
    wire.TOKENS_PATH: Route(wire.CardBody, wire.card_from_wire, "tokenize", wire.TokenBody),
    wire.CHARGES_PATH: Route(wire.ChargeBody, wire.charge_from_wire, "charge"),
    wire.AUTHORIZATIONS_PATH: Route(wire.ChargeBody, wire.charge_from_wire, "authorize"),
    wire.CAPTURES_PATH: Route(wire.CaptureBody, wire.capture_from_wire, "capture"),
    wire.VOIDS_PATH: Route(wire.VoidBody, wire.void_from_wire, "void"),
    wire.REFUNDS_PATH: Route(wire.RefundBody, wire.refund_from_wire, "refund"),
}
QUERIES: dict[str, str] = {
    wire.CHARGES_PATH: "query_charge",
    wire.CAPTURES_PATH: "query_capture",
    wire.VOIDS_PATH: "query_void",
    wire.REFUNDS_PATH: "query_refund",
}


async def answer_post(channel: ChannelPort, route: Route, body: bytes) -> bytes:
    """Raises `MalformedChannelRequest` for a body that is not the route's request (bad
    JSON, wrong fields, an amount or a card the domain refuses)."""
    try:
        request = route.request(msgspec.json.decode(body, type=route.body))
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise MalformedChannelRequest(str(exc)) from exc
    except DomainError as exc:
        raise MalformedChannelRequest(exc.message) from exc
    return msgspec.json.encode(route.answer(await getattr(channel, route.method)(request)))


async def answer_query(
    channel: ChannelPort, method: str, key: str, reference: str | None
) -> bytes:
    return msgspec.json.encode(wire.result_to_wire(await getattr(channel, method)(key, reference)))


async def dispatch(
    channel: ChannelPort, method: str, path: str, query: Mapping[str, str], body: bytes
) -> tuple[int, bytes]:
    """Route one request: (status, JSON body); 404 for a route that does not exist.

    `path` is the percent-encoded path as sent (ASGI `raw_path`), decoded here once.
    """
    try:
        answer = await _route(channel, method, path, query.get("reference") or None, body)
    except MalformedChannelRequest as exc:
        return 422, msgspec.json.encode(wire.ErrorBody(str(exc)))
    if answer is None:
        return 404, msgspec.json.encode(wire.ErrorBody(f"no route {method} {path}"))
    return 200, answer


async def _route(
    channel: ChannelPort, method: str, path: str, reference: str | None, body: bytes
) -> bytes | None:
    if method == "POST" and path in POSTS:
        return await answer_post(channel, POSTS[path], body)
    collection, _, key = path.rpartition("/")
    if method == "GET" and key and collection in QUERIES:
        return await answer_query(channel, QUERIES[collection], unquote(key), reference)
    return None
