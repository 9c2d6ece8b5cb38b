"""A request body is read within its deadline, or answered 408 and the connection closed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from entrypoints.edge.slow_clients import body_deadline

Message = dict[str, Any]


class Recorder:
    """An ASGI app that reads the whole body and answers 200 with its length."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})


def client(*chunks: bytes, then_wait: bool = False) -> Any:
    queue = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1 or then_wait}
             for i, c in enumerate(chunks)]

    async def receive() -> Message:
        if queue:
            await asyncio.sleep(0.001)
            return queue.pop(0)
        await asyncio.Event().wait()  # a client that never sends the rest
        raise AssertionError("unreachable")

    return receive


async def serve(app: Any, method: str, receive: Any) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": "http", "method": method}, receive, send)
    return sent


async def test_a_body_in_pieces_within_the_deadline_reaches_the_app_whole() -> None:
    inner = Recorder()

    sent = await serve(body_deadline(inner, 1.0, 1024), "POST", client(b"ab", b"cd", b"e"))

    assert inner.bodies == [b"abcde"]
    assert sent[0]["status"] == 200


async def test_a_body_held_past_the_deadline_is_408_with_the_connection_closed() -> None:
    inner = Recorder()

    sent = await serve(body_deadline(inner, 0.05, 1024), "POST", client(b"ab", then_wait=True))

    start, body = sent
    assert start["status"] == 408
    assert (b"connection", b"close") in start["headers"]
    assert json.loads(body["body"])["error"]["code"] == "request_timeout"
    assert inner.bodies == []


async def test_a_body_longer_than_the_limit_is_handed_on_as_it_comes() -> None:
    inner = Recorder()

    await serve(body_deadline(inner, 1.0, 3), "POST", client(b"ab", b"cd", b"ef"))

    assert inner.bodies == [b"abcdef"]


async def test_a_request_without_a_body_is_not_held_up() -> None:
    inner = Recorder()

    sent = await serve(body_deadline(inner, 0.05, 1024), "GET", client(b""))

    assert sent[0]["status"] == 200
