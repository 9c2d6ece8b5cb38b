"""Spans recorded in memory, per test, with a chosen sampling ratio."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Tracer

from observability.edge_sampling import EdgeIdGenerator


@dataclass
class Spans:
    provider: TracerProvider
    exporter: InMemorySpanExporter

    @property
    def tracer(self) -> Tracer:
        return self.provider.get_tracer("test")

    def finished(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> ReadableSpan:
        matches = [span for span in self.finished() if span.name == name]
        assert len(matches) == 1, [span.name for span in self.finished()]
        return matches[0]


def spans_with_rate(rate: float) -> Spans:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(rate)),
                              id_generator=EdgeIdGenerator())  # as paygate builds it
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Spans(provider, exporter)
