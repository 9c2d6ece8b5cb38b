"""Spans as the OTLP receiver got them, grouped by trace, with the service that sent each."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from gateway_client import Gateway
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from otlp_receiver import Received
from process_harness import PaygateProcess


@dataclass(frozen=True, slots=True)
class Exported:
    service: str
    span: Span

    @property
    def name(self) -> str:
        return self.span.name

    @property
    def trace_id(self) -> str:
        return self.span.trace_id.hex()

    @property
    def span_id(self) -> str:
        return self.span.span_id.hex()

    @property
    def parent_id(self) -> str:
        return self.span.parent_span_id.hex()


class Spans:
    """Everything one receiver has been sent so far."""

    def __init__(self, received: Received) -> None:
        self.received = received

    def all(self) -> list[Exported]:
        found = []
        for request in list(self.received.requests):
            for resource in request.resource_spans:
                service = next(
                    (
                        a.value.string_value
                        for a in resource.resource.attributes
                        if a.key == "service.name"
                    ),
                    "",
                )
                for scope in resource.scope_spans:
                    found.extend(Exported(service, span) for span in scope.spans)
        return found

    def of_trace(self, trace_id: str) -> list[Exported]:
        return [span for span in self.all() if span.trace_id == trace_id]

    def wait_for_trace(
        self, trace_id: str, names: set[str], timeout: float = 10.0
    ) -> list[Exported]:
        """The spans of one trace once every name in `names` has arrived (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.of_trace(trace_id)
            if names <= {span.name for span in spans}:
                return spans
            if time.monotonic() > deadline:
                got = sorted(f"{s.service}:{s.name}" for s in spans)
                raise AssertionError(
                    f"after {timeout} s trace {trace_id} has {got}, missing "
                    f"{sorted(names - {s.name for s in spans})}"
                )
            time.sleep(0.05)


@dataclass(frozen=True, slots=True)
class Deployment:
    gateway: PaygateProcess
    services: tuple[PaygateProcess, ...]
    api: Gateway
    spans: Spans
    workdir: Path

    @property
    def processes(self) -> tuple[PaygateProcess, ...]:
        return (self.gateway, *self.services)
