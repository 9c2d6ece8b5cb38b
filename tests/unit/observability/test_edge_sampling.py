"""Sampling decided once at the edge: an unsampled request builds nothing of OpenTelemetry
yet answers X-Trace-ID and passes its `traceparent` on; a sampled one is traced as before,
with the trace id the decision was made on."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

from observability.asgi import ObservabilityMiddleware
from observability.asgi_types import Receive, Scope, Send
from observability.edge_sampling import (
    EdgeIdGenerator,
    EdgeSampler,
    follows_parent,
    parse_traceparent,
)
from observability.tracing import build_sampler
from tests.unit.observability.span_capture import Spans, spans_with_rate
from tests.unit.observability.tiny_app import PARENT

PARENT_TRACE_ID = PARENT.split("-")[1]


def outgoing_app(sent: list[dict[str, str]]) -> object:
    """An app that calls out as the remote adapters do: `propagate.inject` into headers."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers: dict[str, str] = {}
        propagate.inject(headers)
        sent.append(headers)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


async def get(app: object, path: str = "/api/v1/payments/pay_1",
              headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                                 base_url="http://paygate.test") as http:
        return await http.get(path, headers=headers or {})


def middleware(spans: Spans, sent: list[dict[str, str]]) -> ObservabilityMiddleware:
    return ObservabilityMiddleware(outgoing_app(sent),  # type: ignore[arg-type]
                                   tracer_provider=spans.provider)


class TestAnUnsampledRequest:
    async def test_passes_its_trace_on_as_an_unsampled_traceparent(self) -> None:
        spans, sent = spans_with_rate(0.0), []
        response = await get(middleware(spans, sent))
        trace_id = response.headers["x-trace-id"]
        version, sent_trace_id, span_id, flags = sent[0]["traceparent"].split("-")
        assert (version, sent_trace_id, flags) == ("00", trace_id, "00")
        assert len(span_id) == 16
        assert spans.finished() == []

    async def test_continues_an_unsampled_parent_and_its_tracestate(self) -> None:
        spans, sent = spans_with_rate(1.0), []
        response = await get(middleware(spans, sent), headers={
            "traceparent": PARENT[:-2] + "00", "tracestate": "vendor=1"})
        assert response.headers["x-trace-id"] == PARENT_TRACE_ID
        assert sent[0]["traceparent"].startswith(f"00-{PARENT_TRACE_ID}-")
        assert sent[0]["traceparent"].endswith("-00")
        assert sent[0]["tracestate"] == "vendor=1"
        assert spans.finished() == []

    async def test_a_probe_continues_even_a_sampled_parent_without_a_span(self) -> None:
        spans, sent = spans_with_rate(1.0), []
        response = await get(middleware(spans, sent), "/health/live", {"traceparent": PARENT})
        assert response.headers["x-trace-id"] == PARENT_TRACE_ID
        assert spans.finished() == []

    async def test_leaves_nothing_behind_after_the_request(self) -> None:
        spans, sent = spans_with_rate(0.0), []
        await get(middleware(spans, sent))
        after: dict[str, str] = {}
        propagate.inject(after)
        assert "traceparent" not in after


class TestASampledRequest:
    async def test_gets_the_trace_id_its_sampling_was_decided_on(self) -> None:
        """At 50 % the SDK samples again on the span's trace id: it agrees with the edge
        for every request, so each exported trace is the one its response named."""
        spans, sent = spans_with_rate(0.5), []
        app = middleware(spans, sent)
        answered = [(await get(app)).headers["x-trace-id"] for _ in range(60)]
        exported = [format(span.context.trace_id, "032x") for span in spans.finished()]
        sampled = [tp.split("-")[1] for tp in (h["traceparent"] for h in sent)
                   if int(tp.split("-")[3], 16) & 1]
        assert 10 < len(exported) < 50
        assert exported == sampled
        assert set(exported) <= set(answered)

    async def test_an_incoming_sampled_parent_is_followed_by_the_sdk(self) -> None:
        spans, sent = spans_with_rate(0.0), []
        response = await get(middleware(spans, sent), headers={"traceparent": PARENT})
        [server] = spans.finished()
        assert response.headers["x-trace-id"] == PARENT_TRACE_ID
        assert server.parent is not None
        assert format(server.parent.span_id, "016x") == PARENT.split("-")[2]
        assert int(sent[0]["traceparent"].split("-")[3], 16) & 1

    async def test_an_unreadable_traceparent_is_left_to_the_sdk(self) -> None:
        spans, sent = spans_with_rate(1.0), []
        response = await get(middleware(spans, sent), headers={"traceparent": "garbage"})
        [server] = spans.finished()
        assert response.headers["x-trace-id"] == format(server.context.trace_id, "032x")
        assert server.parent is None


class TestAProviderTheEdgeCannotSpeakFor:
    async def test_without_the_edge_id_generator_spans_are_started_as_before(self) -> None:
        exporter = InMemorySpanExporter()
        provider = TracerProvider(sampler=build_sampler("parentbased_traceidratio", 1.0))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        assert EdgeSampler.of(provider) is None
        sent: list[dict[str, str]] = []
        response = await get(ObservabilityMiddleware(
            outgoing_app(sent), tracer_provider=provider))  # type: ignore[arg-type]
        [server] = exporter.get_finished_spans()
        assert response.headers["x-trace-id"] == format(server.context.trace_id, "032x")

    def test_nor_with_a_sampler_that_does_not_follow_the_parent(self) -> None:
        provider = TracerProvider(sampler=TraceIdRatioBased(0.1), id_generator=EdgeIdGenerator())
        assert EdgeSampler.of(provider) is None
        assert EdgeSampler.of(trace.NoOpTracerProvider()) is None


@pytest.mark.parametrize(("sampler", "follows"), [
    ("parentbased_traceidratio", True), ("parentbased_always_on", True),
    ("parentbased_always_off", True), ("always_on", False), ("traceidratio", False)])
def test_which_samplers_let_the_edge_decide_for_the_whole_request(
    sampler: str, follows: bool
) -> None:
    assert follows_parent(build_sampler(sampler, 0.1)) is follows


@pytest.mark.parametrize("header", [
    "garbage", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"])
def test_only_a_valid_version_00_traceparent_is_read_at_the_edge(header: str) -> None:
    assert parse_traceparent(header) is None
    assert parse_traceparent(PARENT) == (int(PARENT_TRACE_ID, 16), 0x00F067AA0BA902B7, True)
