"""Clients that send a request slowly, or never finish it, are cut off (docs/adr/0024).

A client holding a request open held its connection forever: 4,000 of them kept 17 MB
per worker for as long as they liked. uvicorn's own settings bound the idle time between
requests (`timeout_keep_alive`) and how many connections a worker serves at once
(`limit_concurrency`, PAYGATE_MAX_CONNECTIONS), but not the time a request may take to
arrive. So:

- `DeadlineHttpToolsProtocol`: uvicorn's httptools protocol with a deadline on a request's
  headers (PAYGATE_HEADER_TIMEOUT, from the connection's start or the previous answer);
  past it the connection is closed. uvicorn takes it by its import path (`http=`).
- `body_deadline`: ASGI middleware that reads a body within PAYGATE_BODY_TIMEOUT (default
  30 s) or answers `408 request_timeout` with `Connection: close`. The body is at most
  PAYGATE_BODY_LIMIT bytes and every handler reads it whole, so it is read here first and
  handed on in one piece; a longer one is handed on as it comes, for the app to refuse.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from entrypoints.http.errors import error_body
from entrypoints.settings import Settings
from observability.asgi_types import ASGIApp, Message, Receive, Scope, Send
from observability.trace_ids import current_trace_id

PROTOCOL = "entrypoints.edge.slow_clients:DeadlineHttpToolsProtocol"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TIMED_OUT = ("the request body did not arrive within {seconds:g} s; the connection is "
             "closed (send the whole request at once)")


@functools.cache
def header_timeout() -> float:
    """This worker's PAYGATE_HEADER_TIMEOUT (the protocol is built by uvicorn, by name)."""
    return Settings.from_env().header_timeout


class DeadlineHttpToolsProtocol(HttpToolsProtocol):
    """Closes a connection whose request headers are not all in within the deadline."""

    _header_deadline: asyncio.TimerHandle | None = None
    _headers_read = 0
    _responses_sent = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._client_transport = transport
        self._arm()

    def on_headers_complete(self) -> None:
        self._headers_read += 1
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        self._responses_sent += 1
        super().on_response_complete()
        self._arm()  # the next request's headers are due within the deadline too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        loop = asyncio.get_running_loop()
        self._header_deadline = loop.call_later(header_timeout(), self._cut_off)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _cut_off(self) -> None:
        self._header_deadline = None
        busy = self._headers_read > self._responses_sent  # a pipelined one is running
        if not busy and not self._client_transport.is_closing():
            self._client_transport.close()


def body_deadline(app: ASGIApp, seconds: float, limit: int) -> ASGIApp:
    """ASGI middleware: the body within `seconds`, or `408 request_timeout`."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await app(scope, receive, send)
            return
        try:
            async with asyncio.timeout(seconds):  # no task of its own, unlike wait_for
                whole = await _read(receive, limit)
        except TimeoutError:
            await _answer_408(send, seconds)
            return
        await app(scope, _replaying(whole, receive), send)

    return middleware


async def _read(receive: Receive, limit: int) -> list[Message]:
    """The request's messages up to the end of its body, or past `limit` bytes."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        size += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body") or size > limit:
            return messages


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """The body as one message (what was read), then the client itself."""
    body = [m for m in messages if m["type"] == "http.request"]
    rest = [m for m in messages if m["type"] != "http.request"]
    queued: list[Message] = []
    if body:
        more = bool(body[-1].get("more_body"))
        joined = b"".join(m.get("body", b"") for m in body)
        queued.append({"type": "http.request", "body": joined, "more_body": more})
    queued.extend(rest)

    async def replay() -> Message:
        return queued.pop(0) if queued else await receive()

    return replay


async def _answer_408(send: Send, seconds: float) -> None:
    body = error_body("request_timeout", TIMED_OUT.format(seconds=seconds), current_trace_id())
    headers: list[Any] = [(b"content-type", b"application/json"), (b"connection", b"close"),
                          (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 408, "headers": headers})
    await send({"type": "http.response.body", "body": body})
