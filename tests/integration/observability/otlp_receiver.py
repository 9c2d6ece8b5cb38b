"""A tiny OTLP/HTTP trace receiver on a free local port, decoding what exporters send."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span


@dataclass
class Received:
    paths: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    requests: list[ExportTraceServiceRequest] = field(default_factory=list)

    def spans(self) -> dict[str, Span]:
        """Every received span by name (names are unique in these tests)."""
        return {span.name: span for request in self.requests
                for resource in request.resource_spans for scope in resource.scope_spans
                for span in scope.spans}

    def service_names(self) -> set[str]:
        return {attribute.value.string_value for request in self.requests
                for resource in request.resource_spans
                for attribute in resource.resource.attributes
                if attribute.key == "service.name"}


@contextmanager
def otlp_receiver(port: int = 0) -> Iterator[tuple[str, Received]]:
    """Yield (base URL, what arrived) while the receiver listens on 127.0.0.1 (on `port`,
    or a free one)."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            received.paths.append(self.path)
            received.bodies.append(body)
            received.requests.append(request)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
