"""A business call under an unsampled parent starts no span; a sampled payment is unchanged.

With `ParentBased` sampling a child of an unsampled parent is never sampled, so making it
(ids, a sampling decision, a context switch) is pure cost: the call runs inside its parent's
span instead, and its log lines carry the request's trace id all the same.
"""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, Sampler
from opentelemetry.trace import SpanKind

from application.ports.channel import ChargeResult, Outcome
from domain.risk import RiskDecision, Verdict
from observability import decorators
from observability import spans as spans_module
from observability.asgi import ObservabilityMiddleware
from observability.asgi_types import Receive, Scope, Send
from observability.decorators import traced_create_payment
from observability.edge_sampling import (
    EdgeIdGenerator,
    RequestIds,
    current_unsampled,
    enter_unsampled,
    leave_unsampled,
)
from observability.logging import json_handler
from observability.ports import traced_channel, traced_order, traced_risk
from observability.spans import drops_children_of_unsampled
from observability.trace_ids import current_trace_id
from observability.tracing import build_sampler
from tests.unit.observability.builders import payment, payment_command
from tests.unit.observability.span_capture import Spans, spans_with_rate
from tests.unit.observability.tiny_app import PARENT


class CountingIds(EdgeIdGenerator):
    """Counts the span ids handed out: one per span started, sampled or not."""

    def __init__(self) -> None:
        self.span_ids = 0

    def generate_span_id(self) -> int:
        self.span_ids += 1
        return super().generate_span_id()


def spans_with(sampler: Sampler, ids: CountingIds) -> Spans:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler, id_generator=ids)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Spans(provider, exporter)


TRACING_CODE = {decorators.__file__, spans_module.__file__}


class Seen:
    """What the wrapped calls saw while they ran: the current span, the trace id, and the
    frames of the tracing code they ran under (a coroutine's callers are on the stack)."""

    def __init__(self) -> None:
        self.spans: list[object] = []
        self.trace_ids: list[str | None] = []
        self.tracing_frames: list[list[str]] = []

    def look(self) -> None:
        self.spans.append(trace.get_current_span())
        self.trace_ids.append(current_trace_id())
        frame, names = sys._getframe(1), []
        while frame is not None:
            if frame.f_code.co_filename in TRACING_CODE:
                names.append(frame.f_code.co_name)
            frame = frame.f_back
        self.tracing_frames.append(names)


class Risk:
    def __init__(self, seen: Seen) -> None:
        self.seen = seen

    async def assess(self, request: object) -> RiskDecision:
        self.seen.look()
        logging.getLogger("paygate.test.risk").warning("assessing")
        return RiskDecision(Verdict.APPROVE, 12)


class Orders:
    def __init__(self, seen: Seen) -> None:
        self.seen = seen

    async def create_order(self, request: object) -> str:
        self.seen.look()
        return "ord_1"


class Channel:
    name = "sandbox"

    def __init__(self, seen: Seen) -> None:
        self.seen = seen

    async def charge(self, request: object) -> ChargeResult:
        self.seen.look()
        return ChargeResult(Outcome.SUCCEEDED, reference="ch_1")

    async def refund(self, request: object) -> ChargeResult:
        raise NotImplementedError


def payment_app(spans: Spans, seen: Seen) -> ObservabilityMiddleware:
    """The shape of POST /api/v1/payments: a server span, CreatePayment, and its three ports."""
    tracer = spans.provider.get_tracer("paygate")
    risk = traced_risk(Risk(seen), tracer)
    orders = traced_order(Orders(seen), tracer)
    channel = traced_channel(Channel(seen), tracer)

    async def create_payment(command: object) -> object:
        seen.look()
        await risk.assess(command)
        await orders.create_order(command)
        await channel.charge(command)
        return payment()

    use_case = traced_create_payment(create_payment, tracer)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await use_case(payment_command())
        scope["path_template"] = "/api/v1/payments"
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return ObservabilityMiddleware(app, tracer_provider=spans.provider)


async def pay(app: ObservabilityMiddleware, headers: dict[str, str] | None = None) -> str:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://paygate.test") as http:
        response = await http.post("/api/v1/payments", json={}, headers=headers or {})
    assert response.status_code == 201
    return response.headers["x-trace-id"]


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = json_handler(stream)
    logger = logging.getLogger("paygate.test")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


class TestUnsampledPayment:
    async def test_no_span_is_started_not_even_the_server_span(self) -> None:
        """Sampling is decided at the edge: the SDK never starts a span (each would take a
        span id from the provider's generator) and nothing is exported."""
        ids, seen = CountingIds(), Seen()
        spans = spans_with(build_sampler("parentbased_traceidratio", 0.0), ids)
        await pay(payment_app(spans, seen))
        assert spans.finished() == []
        assert ids.span_ids == 0

    async def test_every_call_sees_the_response_trace_id_and_no_span_in_the_context(
        self
    ) -> None:
        seen = Seen()
        spans = spans_with(build_sampler("parentbased_traceidratio", 0.0), CountingIds())
        trace_id = await pay(payment_app(spans, seen))
        assert seen.spans == [trace.INVALID_SPAN] * 4  # no context was copied for it
        assert seen.trace_ids == [trace_id] * 4

    async def test_no_frame_of_the_tracing_code_stands_between_the_calls(self) -> None:
        """Each frame there would be resumed at every await of the calls under it."""
        seen = Seen()
        spans = spans_with(build_sampler("parentbased_traceidratio", 0.0), CountingIds())
        await pay(payment_app(spans, seen))
        assert seen.tracing_frames == [[], [], [], []]

    async def test_the_business_calls_do_not_look_up_the_current_span(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The server span already said the trace is not sampled: each business call
        reads that from one context variable instead of four OpenTelemetry lookups."""
        looked_up: list[object] = []
        monkeypatch.setattr(spans_module, "under_unsampled_parent",
                            lambda: looked_up.append(1) or True)
        seen = Seen()
        spans = spans_with(build_sampler("parentbased_traceidratio", 0.0), CountingIds())
        await pay(payment_app(spans, seen))
        assert looked_up == []
        assert seen.tracing_frames == [[], [], [], []]

    async def test_after_the_request_business_calls_are_traced_again(self) -> None:
        unsampled = spans_with(build_sampler("parentbased_traceidratio", 0.0), CountingIds())
        await pay(payment_app(unsampled, Seen()))
        sampled = spans_with_rate(1.0)
        await traced_create_payment(_returns(payment()), sampled.tracer)(payment_command())
        assert [span.name for span in sampled.finished()] == ["CreatePayment"]

    async def test_log_lines_inside_a_skipped_span_carry_the_trace_id(
        self, log_lines: io.StringIO
    ) -> None:
        spans = spans_with(build_sampler("parentbased_traceidratio", 0.0), CountingIds())
        trace_id = await pay(payment_app(spans, Seen()))
        [line] = parsed(log_lines)
        assert (line["message"], line["trace_id"]) == ("assessing", trace_id)
        assert len(line["span_id"]) == 16

    async def test_an_incoming_unsampled_parent_is_followed_without_child_spans(self) -> None:
        ids, seen = CountingIds(), Seen()
        spans = spans_with(build_sampler("parentbased_traceidratio", 1.0), ids)
        unsampled_parent = PARENT[:-2] + "00"
        trace_id = await pay(payment_app(spans, seen), {"traceparent": unsampled_parent})
        assert trace_id == PARENT.split("-")[1]
        assert (spans.finished(), ids.span_ids) == ([], 0)
        assert seen.trace_ids == [trace_id] * 4


class TestSampledPayment:
    async def test_the_server_span_and_the_four_business_spans_are_exported(self) -> None:
        spans, seen = spans_with_rate(1.0), Seen()
        trace_id = await pay(payment_app(spans, seen))
        server = spans.named("POST /api/v1/payments")
        create = spans.named("CreatePayment")
        assert {format(span.context.trace_id, "032x") for span in spans.finished()} == {trace_id}
        assert (server.kind, server.parent) == (SpanKind.SERVER, None)
        assert create.parent.span_id == server.context.span_id
        for name in ("RiskCheck", "CreateOrder", "ChannelPayment"):
            assert spans.named(name).parent.span_id == create.context.span_id, name
        assert len(spans.finished()) == 5

    async def test_the_business_calls_do_not_look_up_whether_the_parent_is_sampled(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The server span already said the trace is sampled: a sampled trace's children
        are never under an unsampled parent, so no business call looks that up."""
        looked_up: list[object] = []
        monkeypatch.setattr(spans_module, "under_unsampled_parent",
                            lambda: looked_up.append(1) or False)
        spans = spans_with_rate(1.0)
        await pay(payment_app(spans, Seen()))
        assert looked_up == []
        assert len(spans.finished()) == 5

    async def test_each_call_runs_in_its_own_span(self) -> None:
        spans, seen = spans_with_rate(1.0), Seen()
        await pay(payment_app(spans, seen))
        names = [span.name for span in seen.spans]  # type: ignore[attr-defined]
        assert names == ["CreatePayment", "RiskCheck", "CreateOrder", "ChannelPayment"]
        assert all(seen.tracing_frames)  # the spans' own code runs around each call

    async def test_the_spans_carry_their_attributes(self) -> None:
        spans = spans_with_rate(1.0)
        await pay(payment_app(spans, Seen()))
        assert dict(spans.named("POST /api/v1/payments").attributes) == {
            "http.request.method": "POST", "http.response.status_code": 201,
            "url.scheme": "http", "url.path": "/api/v1/payments",
            "http.route": "/api/v1/payments",
        }
        command = {"merchant_id": "mer_1", "order_no": "ORDER-1", "channel": "sandbox",
                   "amount": 1050, "currency": "USD"}
        assert dict(spans.named("CreatePayment").attributes) == {
            **command, "payment_no": "pay_1", "status": "succeeded",
            "risk.decision": "approve", "risk.score": 12,
        }
        # each child says only what its business parent was not called with (ADR 0037)
        assert dict(spans.named("RiskCheck").attributes) == {
            "risk.decision": "approve", "risk.score": 12}
        assert dict(spans.named("CreateOrder").attributes) == {}
        assert dict(spans.named("ChannelPayment").attributes) == {"outcome": "succeeded"}

    async def test_the_attributes_keep_the_order_of_the_command_then_the_result(self) -> None:
        spans = spans_with_rate(1.0)
        await pay(payment_app(spans, Seen()))
        assert list(spans.named("CreatePayment").attributes) == [
            "merchant_id", "payment_no", "order_no", "channel", "amount", "currency",
            "status", "risk.decision", "risk.score"]


class TestWhenAChildIsStillStarted:
    async def test_a_sampler_that_may_sample_under_an_unsampled_parent_is_asked(self) -> None:
        eager = ParentBased(ALWAYS_OFF, local_parent_not_sampled=ALWAYS_ON)
        spans, seen = spans_with(eager, CountingIds()), Seen()
        await pay(payment_app(spans, seen))
        assert sorted(span.name for span in spans.finished()) == [
            "ChannelPayment", "CreateOrder", "CreatePayment", "RiskCheck"]

    async def test_a_span_sampled_under_an_unsampled_request_speaks_for_its_calls(
        self,
    ) -> None:
        """A business tracer whose sampler samples what the edge did not: inside its
        span the calls see that span, not the unsampled request; after it, the request."""
        spans = spans_with(ALWAYS_ON, CountingIds())
        ids = RequestIds(trace_id=0xABC, span_id=0xDEF)
        inside: list[object] = []

        async def look(command: object) -> None:
            inside.append(current_unsampled())

        token = enter_unsampled(ids)
        try:
            await traced_create_payment(look, spans.provider.get_tracer("paygate"))(object())
            assert current_unsampled() == ids
        finally:
            leave_unsampled(token)
        assert inside == [None]
        assert spans.named("CreatePayment").context.trace_id != ids.trace_id

    async def test_without_a_current_span_the_business_span_is_a_sampled_root(self) -> None:
        spans = spans_with_rate(1.0)
        await traced_create_payment(_returns(payment()), spans.tracer)(payment_command())
        assert spans.named("CreatePayment").parent is None

    async def test_without_a_current_span_an_unsampled_root_still_gets_ids(self) -> None:
        ids, seen = CountingIds(), Seen()
        spans = spans_with(build_sampler("parentbased_traceidratio", 0.0), ids)

        async def look(command: object) -> None:
            seen.look()

        await traced_create_payment(look, spans.provider.get_tracer("paygate"))(object())
        assert ids.span_ids == 1
        assert seen.trace_ids[0] is not None


def _returns(value: object) -> Any:
    async def call(command: object) -> object:
        return value

    return call


@pytest.mark.parametrize(("sampler", "drops"), [
    ("parentbased_traceidratio", True), ("parentbased_always_on", True),
    ("parentbased_always_off", True), ("always_off", True),
    ("always_on", False), ("traceidratio", False),
])
def test_which_samplers_drop_every_child_of_an_unsampled_parent(
    sampler: str, drops: bool
) -> None:
    provider = TracerProvider(sampler=build_sampler(sampler, 0.5))
    assert drops_children_of_unsampled(provider.get_tracer("paygate")) is drops


def test_a_proxy_tracer_is_not_assumed_to_drop_anything() -> None:
    assert drops_children_of_unsampled(trace.ProxyTracer("paygate")) is False
