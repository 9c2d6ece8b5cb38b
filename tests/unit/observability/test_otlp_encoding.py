"""The wire encoder writes byte for byte what the SDK's OTLP encoder serialises."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

from observability.otlp_encoding import encode_spans

REMOTE_PARENT = SpanContext(
    0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7, is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
    trace_state=TraceState([("vendor", "1"), ("x", "y")]))
LINKED = SpanContext(0x1234, 0x5678, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))


class Recorder:
    """Tracers over one exporter, so that spans of several resources share a batch."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()

    def provider(self, resource: Resource, limits: SpanLimits | None = None) -> TracerProvider:
        provider = TracerProvider(resource=resource, span_limits=limits)
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        return provider

    def spans(self) -> Sequence[ReadableSpan]:
        return self.exporter.get_finished_spans()


def assert_same_bytes(spans: Sequence[ReadableSpan]) -> None:
    expected = sdk_encode(spans).SerializeToString()
    actual = encode_spans(spans)
    assert ExportTraceServiceRequest.FromString(actual) == sdk_encode(spans)
    assert actual == expected


def payment_spans(recorder: Recorder) -> None:
    tracer = recorder.provider(Resource.create({"service.name": "paygate"})).get_tracer("paygate")
    with tracer.start_as_current_span("POST /api/v1/payments", kind=SpanKind.SERVER) as server:
        server.set_attributes({"http.request.method": "POST", "http.response.status_code": 201,
                               "url.scheme": "http", "url.path": "/api/v1/payments",
                               "http.route": "/api/v1/payments"})
        with tracer.start_as_current_span("CreatePayment") as create:
            create.set_attributes({"merchant_id": "mer_1", "amount": 1050, "currency": "USD"})
            for name in ("RiskCheck", "CreateOrder", "ChannelPayment"):
                with tracer.start_as_current_span(name) as port:
                    port.set_attributes({"risk.decision": "approve", "risk.score": 12})


def failed_span(recorder: Recorder) -> None:
    tracer = recorder.provider(Resource({"service.name": "paygate"})).get_tracer("paygate")
    span = tracer.start_span("ChannelRefund")
    try:
        raise TimeoutError("no answer")
    except TimeoutError as error:
        span.record_exception(error, attributes={"retry": 2})
    span.set_attribute("error.type", "TimeoutError")
    span.set_status(Status(StatusCode.ERROR, "TimeoutError"))
    span.add_event("plain")
    span.end()


def remote_parent_and_links(recorder: Recorder) -> None:
    tracer = recorder.provider(Resource({"service.name": "paygate"})).get_tracer("paygate")
    parent = trace.set_span_in_context(NonRecordingSpan(REMOTE_PARENT))
    links = [Link(LINKED, {"why": "batch"}), Link(REMOTE_PARENT)]
    tracer.start_span("continued", context=parent, kind=SpanKind.CONSUMER, links=links).end()
    with tracer.start_as_current_span("ok") as span:
        span.set_status(Status(StatusCode.OK))


def every_value_type(recorder: Recorder) -> None:
    tracer = recorder.provider(Resource({"service.name": "paygate"})).get_tracer("paygate")
    span = tracer.start_span("values", kind=SpanKind.CLIENT)
    span.set_attributes({
        "true": True, "false": False, "zero": 0, "negative": -7, "int64.max": 2**63 - 1,
        "int64.min": -(2**63), "big": 300, "float.zero": 0.0, "float": -1.5, "inf": math.inf,
        "empty": "", "unicode": "é€😀 ünïcode", "bytes": b"\x00\xff", "no.bytes": b"",
        "strings": ("a", "", "c"), "ints": [1, -1, 2**40], "bools": (True, False),
        "floats": (0.5, 2.0), "empty.tuple": (), "long": "x" * 300,
    })
    span.end()


def unencodable_values(recorder: Recorder) -> None:
    tracer = recorder.provider(Resource({"service.name": "paygate"})).get_tracer("paygate")
    span = tracer.start_span("too big", kind=SpanKind.PRODUCER)
    span.set_attributes({"before": 1, "too.big": 2**64, "mixed.too.big": (1, 2**70), "after": 2})
    span.end()


def dropped_counts(recorder: Recorder) -> None:
    limits = SpanLimits(max_span_attributes=2, max_events=1, max_links=1,
                        max_event_attributes=1, max_link_attributes=1)
    tracer = recorder.provider(Resource({"service.name": "paygate"}), limits).get_tracer("paygate")
    span = tracer.start_span("limited", links=[Link(LINKED, {"a": 1, "b": 2}), Link(LINKED)])
    span.set_attributes({"a": 1, "b": 2, "c": 3})
    span.add_event("first", {"a": 1, "b": 2})
    span.add_event("second")
    span.end()


def several_resources_and_scopes(recorder: Recorder) -> None:
    gateway = recorder.provider(Resource({"service.name": "paygate"}, "https://schema/1"))
    twin = recorder.provider(Resource({"service.name": "paygate"}, "https://schema/1"))
    risk = recorder.provider(Resource({"service.name": "risk", "k8s.pod": "risk-0"}))
    scoped = gateway.get_tracer("paygate.http", "1.2", "https://schema/2", {"scope.attr": "x"})
    for tracer in (gateway.get_tracer("paygate"), risk.get_tracer("risk"), scoped,
                   twin.get_tracer("paygate"), gateway.get_tracer("paygate"),
                   risk.get_tracer("risk")):
        tracer.start_span("interleaved").end()


def explicit_times(recorder: Recorder) -> None:
    tracer = recorder.provider(Resource({})).get_tracer("")
    span = tracer.start_span("", start_time=0)
    span.end(end_time=2**63 + 5)


def one_name_every_kind(recorder: Recorder) -> None:
    """The encoder keeps a name's field with its kind: the same name under each kind,
    twice over, must keep each span's own kind."""
    tracer = recorder.provider(Resource({"service.name": "paygate"})).get_tracer("paygate")
    for _ in range(2):
        for kind in SpanKind:
            tracer.start_span("same name", kind=kind).end()


def large_spans(recorder: Recorder) -> None:
    """Spans around the sizes whose length prefix takes one, two and three bytes, and
    every size across 4 KiB, where the encoder stops keeping lengths encoded."""
    tracer = recorder.provider(Resource({"service.name": "paygate"})).get_tracer("paygate")
    for size in (0, 60, 200, *range(3_980, 4_110), 5_000, 17_000):
        span = tracer.start_span("sized")
        span.set_attribute("padding", "p" * size)
        span.end()


def empty_trace_states(recorder: Recorder) -> None:
    """Parents whose trace state is empty but not the SDK's shared default one."""
    tracer = recorder.provider(Resource({"service.name": "paygate"})).get_tracer("paygate")
    for state in (TraceState(), TraceState([]), None, TraceState([("k", "v")])):
        ids = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1),
                          trace_state=state)
        tracer.start_span("child", context=trace.set_span_in_context(
            NonRecordingSpan(ids))).end()


def every_status(recorder: Recorder) -> None:
    """The encoder knows the SDK's default status by identity: spans left unset, set to
    a new unset status, OK, and ERROR with and without a description, in turn."""
    tracer = recorder.provider(Resource({"service.name": "paygate"})).get_tracer("paygate")
    for status in (None, Status(StatusCode.UNSET), None, Status(StatusCode.OK),
                   Status(StatusCode.ERROR, "declined"), None, Status(StatusCode.ERROR),
                   Status(StatusCode.UNSET), None):
        span = tracer.start_span("status")
        if status is not None:
            span.set_status(status)
        span.end()


SHAPES: dict[str, Callable[[Recorder], None]] = {
    "every status": every_status, "empty trace states": empty_trace_states,
    "one name, every kind": one_name_every_kind, "large spans": large_spans,
    "payment": payment_spans, "failed": failed_span, "remote parent and links":
    remote_parent_and_links, "every value type": every_value_type, "unencodable values":
    unencodable_values, "dropped counts": dropped_counts, "several resources and scopes":
    several_resources_and_scopes, "explicit times": explicit_times,
}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_bytes_are_the_sdk_encoders(shape: str) -> None:
    recorder = Recorder()
    SHAPES[shape](recorder)
    assert recorder.spans()
    assert_same_bytes(recorder.spans())


def test_a_batch_of_every_shape_at_once_is_the_sdk_encoders() -> None:
    recorder = Recorder()
    for make in SHAPES.values():
        make(recorder)
    assert_same_bytes(recorder.spans())


def test_no_spans_is_an_empty_request() -> None:
    assert encode_spans([]) == sdk_encode([]).SerializeToString() == b""


def test_a_value_that_cannot_be_encoded_is_left_out_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    unencodable_values(recorder)
    with caplog.at_level(logging.ERROR, logger="observability.otlp_encoding"):
        request = ExportTraceServiceRequest.FromString(encode_spans(recorder.spans()))
    [span] = request.resource_spans[0].scope_spans[0].spans
    assert [attribute.key for attribute in span.attributes] == ["before", "after"]
    assert "too.big" in caplog.text


class Attributes(Mapping[str, object]):
    """A mapping of attributes that is neither a dict nor the SDK's, without a `copy()`."""

    def __init__(self, items: dict[str, object]) -> None:
        self._items = items

    def __getitem__(self, key: str) -> object:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class CopiesToItself(Attributes):
    """One whose `copy()` hands back another mapping of its kind, not a dict."""

    def copy(self) -> CopiesToItself:
        return CopiesToItself(dict(self._items))


@pytest.mark.parametrize("kind", [dict, Attributes, CopiesToItself])
def test_attributes_in_any_mapping_encode_as_the_sdk_encodes_them(
    kind: Callable[[dict[str, object]], Mapping[str, object]],
) -> None:
    items: dict[str, object] = {"merchant_id": "m_1", "amount": 1000, "ok": True, "r": 0.5}
    span = ReadableSpan(
        "CreatePayment", context=SpanContext(0xABC, 0xDEF, is_remote=False),
        attributes=kind(items),  # type: ignore[arg-type]
        resource=Resource.create({"service.name": "paygate"}), start_time=1, end_time=2)

    assert_same_bytes([span])
