"""A merchant's webhook endpoint on a free local port, in a thread of the test process.

It checks `X-Paygate-Signature` the way a merchant would, written out here rather than
borrowed from paygate: `t={unix},v1={hex hmac-sha256 of "{t}.{raw body}"}` keyed with the
merchant's webhook_secret, with `t` at most 300 s from the receiver's clock. A delivery
with a bad signature is answered 400 and kept apart in `refused`. Every other delivery is
recorded with its raw body, then answered with the next status scripted for its path
(`fail(path, times)`), or 200.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Delivery:
    path: str
    body: bytes
    timestamp: int
    answered: int
    traceparent: str | None = None

    @property
    def event(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


class WebhookReceiver:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.secret = ""
        self.clock = clock
        self.deliveries: list[Delivery] = []
        self.refused: list[tuple[str, str]] = []
        self._script: dict[str, deque[int]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.base_url = ""

    def url(self, path: str = "/hooks") -> str:
        return f"{self.base_url}{path}"

    def fail(self, path: str, times: int, status: int = 500) -> None:
        with self._lock:
            self._script[path].extend([status] * times)

    def delivered(self, kind: str | None = None) -> list[Delivery]:
        """Deliveries answered 2xx, optionally of one event type, in arrival order."""
        with self._lock:
            return [
                d
                for d in self.deliveries
                if 200 <= d.answered < 300 and (kind is None or d.event["type"] == kind)
            ]

    def attempts(self, event_id: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.event["id"] == event_id]

    def receive(
        self, path: str, signature: str | None, body: bytes, traceparent: str | None = None
    ) -> int:
        fields = _fields(signature)
        problem = self.check_signature(fields, body)
        with self._lock:
            if problem is not None:
                self.refused.append((path, problem))
                return 400
            script = self._script[path]
            answer = script.popleft() if script else 200
            self.deliveries.append(
                Delivery(path, body, int(fields["t"]), answer, traceparent))
            return answer

    def check_signature(self, fields: dict[str, str], body: bytes) -> str | None:
        """None when the signature is good, else what is wrong with it."""
        stamp, digest = fields.get("t", ""), fields.get("v1", "")
        if not stamp.isdigit() or not digest:
            return f"no usable X-Paygate-Signature in {fields!r}"
        if abs(self.clock() - int(stamp)) > TOLERANCE_SECONDS:
            return "timestamp outside the tolerance"
        expected = hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        return None if hmac.compare_digest(expected.hexdigest(), digest) else "signature mismatch"


def _fields(header: str | None) -> dict[str, str]:
    """`t=1,v1=ab` -> {"t": "1", "v1": "ab"}."""
    pairs = (part.strip().partition("=") for part in (header or "").split(","))
    return {key: value for key, _, value in pairs if key}


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.receive(
                self.path, self.headers.get("X-Paygate-Signature"), body,
                self.headers.get("traceparent"))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test asserts on what was recorded."""

    return Handler


@contextmanager
def receiving(receiver: WebhookReceiver) -> Iterator[WebhookReceiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
