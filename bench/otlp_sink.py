"""A local OTLP/HTTP sink for the benchmark: accepts POST /v1/traces and discards it.

The gateway's exporter really serialises and sends its spans, so the export cost is in
the numbers, without a Jaeger to run. `python bench/otlp_sink.py PORT`
"""

from __future__ import annotations

import contextlib
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received = 0

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        Sink.received += 1
        self._reply()

    def do_GET(self) -> None:
        self._reply()

    def _reply(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
