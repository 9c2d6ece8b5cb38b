"""The middleware around a tiny Litestar app: X-Trace-ID on every response, the server span."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from observability.asgi import ObservabilityMiddleware
from observability.metrics import Metrics
from observability.tracing import TracingSettings, build_tracer_provider
from tests.unit.observability.span_capture import Spans, spans_with_rate
from tests.unit.observability.tiny_app import (
    PARENT,
    TRACE_ID,
    tiny_app,
)


@pytest.mark.parametrize(("path", "status"), [
    ("/api/v1/payments/pay_1", 200), ("/nowhere", 404), ("/boom", 500), ("/refused", 422),
])
async def test_every_response_carries_a_trace_id(
    client: httpx.AsyncClient, path: str, status: int
) -> None:
    response = await client.get(path)
    assert response.status_code == status
    assert TRACE_ID.match(response.headers["x-trace-id"])


async def test_server_span_is_named_after_the_route_template(
    client: httpx.AsyncClient, spans: Spans
) -> None:
    response = await client.get("/api/v1/payments/pay_42")
    span = spans.named("GET /api/v1/payments/{payment_no}")
    assert span.kind is SpanKind.SERVER
    assert dict(span.attributes) == {
        "http.request.method": "GET", "http.route": "/api/v1/payments/{payment_no}",
        "http.response.status_code": 200, "url.scheme": "http",
        "url.path": "/api/v1/payments/pay_42",
    }
    assert format(span.context.trace_id, "032x") == response.headers["x-trace-id"]
    assert spans.named("CreatePayment").parent.span_id == span.context.span_id


async def test_a_5xx_marks_the_span_as_error(client: httpx.AsyncClient, spans: Spans) -> None:
    await client.get("/boom")
    span = spans.named("GET /boom")
    assert (span.status.status_code, span.attributes["error.type"]) == (StatusCode.ERROR, "500")


async def test_the_error_handler_puts_the_same_trace_id_in_the_body(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/refused")
    assert response.json()["error"]["trace_id"] == response.headers["x-trace-id"]


async def test_an_incoming_sampled_traceparent_is_continued(
    client: httpx.AsyncClient, spans: Spans
) -> None:
    response = await client.get("/api/v1/payments/pay_1", headers={"traceparent": PARENT})
    span = spans.named("GET /api/v1/payments/{payment_no}")
    assert response.headers["x-trace-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert (span.parent.span_id, span.parent.is_remote) == (0x00F067AA0BA902B7, True)


async def test_rate_zero_exports_nothing_but_still_answers_with_a_trace_id(
    metrics: Metrics,
) -> None:
    unsampled = spans_with_rate(0.0)
    app = ObservabilityMiddleware(tiny_app(metrics, unsampled), metrics=metrics,
                                  tracer_provider=unsampled.provider)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://paygate.test") as http:
        ids = {(await http.get("/api/v1/payments/pay_1")).headers["x-trace-id"] for _ in range(3)}
        followed = await http.get("/api/v1/payments/pay_1", headers={"traceparent": PARENT})
    assert len(ids) == 3
    assert all(TRACE_ID.match(trace_id) for trace_id in ids)
    assert [span.name for span in unsampled.finished()] == [
        "CreatePayment", "GET /api/v1/payments/{payment_no}"]
    assert followed.headers["x-trace-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_with_tracing_off_ids_are_still_generated_and_a_parent_continued(
    metrics: Metrics, spans: Spans
) -> None:
    off = build_tracer_provider(TracingSettings(enabled=False))
    app = ObservabilityMiddleware(tiny_app(metrics, spans), metrics=metrics, tracer_provider=off)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://paygate.test") as http:
        plain = await http.get("/nowhere")
        followed = await http.get("/nowhere", headers={"traceparent": PARENT})
    assert TRACE_ID.match(plain.headers["x-trace-id"])
    assert plain.headers["x-trace-id"] != "0" * 32
    assert followed.headers["x-trace-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
