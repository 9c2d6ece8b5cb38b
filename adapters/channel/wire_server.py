"""The server side of the remote channel wire format, free of any web framework.

`serve-channel` mounts these on its routes (or calls `dispatch` from one catch-all
route); the integration tests serve them from a bare ASGI app. Either way the request
and answer formats are those of `adapters.channel.wire`, and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import unquote

import msgspec

from adapters.channel import wire
from application.ports.channel import ChannelPort
from domain.errors import DomainError

T = TypeVar("T")


class MalformedChannelRequest(ValueError):
    """Answer 422 with `ErrorBody`: the request can never succeed as sent."""


def _decode(body: bytes, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise MalformedChannelRequest(str(exc)) from exc


async def answer_tokenize(channel: ChannelPort, body: bytes) -> bytes:
    card = _decode(body, wire.CardBody)
    try:
        details = wire.card_from_wire(card)
    except DomainError as exc:
        raise MalformedChannelRequest(exc.message) from exc
    return msgspec.json.encode(wire.TokenBody(await channel.tokenize(details)))


async def answer_charge(channel: ChannelPort, body: bytes) -> bytes:
    try:
        request = wire.charge_from_wire(_decode(body, wire.ChargeBody))
    except DomainError as exc:
        raise MalformedChannelRequest(exc.message) from exc
    return msgspec.json.encode(wire.result_to_wire(await channel.charge(request)))


async def answer_refund(channel: ChannelPort, body: bytes) -> bytes:
    try:
        request = wire.refund_from_wire(_decode(body, wire.RefundBody))
    except DomainError as exc:
        raise MalformedChannelRequest(exc.message) from exc
    return msgspec.json.encode(wire.result_to_wire(await channel.refund(request)))


async def answer_charge_query(
    channel: ChannelPort, payment_no: str, reference: str | None
) -> bytes:
    return msgspec.json.encode(
        wire.result_to_wire(await channel.query_charge(payment_no, reference))
    )


async def answer_refund_query(channel: ChannelPort, refund_no: str, reference: str | None) -> bytes:
    return msgspec.json.encode(
        wire.result_to_wire(await channel.query_refund(refund_no, reference))
    )


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
    posts = {
        wire.TOKENS_PATH: answer_tokenize,
        wire.CHARGES_PATH: answer_charge,
        wire.REFUNDS_PATH: answer_refund,
    }
    if method == "POST" and path in posts:
        return await posts[path](channel, body)
    collection, _, key = path.rpartition("/")
    if method == "GET" and key and collection == wire.CHARGES_PATH:
        return await answer_charge_query(channel, unquote(key), reference)
    if method == "GET" and key and collection == wire.REFUNDS_PATH:
        return await answer_refund_query(channel, unquote(key), reference)
    return None
