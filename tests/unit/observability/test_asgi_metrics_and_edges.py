"""The middleware's HTTP metrics and its edges: unmatched paths, streams, crashes, lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.trace import StatusCode

from observability.asgi import ObservabilityMiddleware
from observability.asgi_types import Receive, Scope, Send
from observability.metrics import Metrics
from tests.unit.observability.span_capture import Spans
from tests.unit.observability.tiny_app import (
    PARENT,
    TRACE_ID,
    http_count,
)


async def test_metrics_label_the_template_and_one_value_for_unmatched_paths(
    client: httpx.AsyncClient, metrics: Metrics
) -> None:
    for path in ("/api/v1/payments/pay_1", "/api/v1/payments/pay_2", "/x", "/y/z", "/boom"):
        await client.get(path)
    assert http_count(metrics, "/api/v1/payments/{payment_no}", "200") == 2
    assert http_count(metrics, "unmatched", "404") == 2
    assert http_count(metrics, "/boom", "500") == 1
    assert http_count(metrics, "/api/v1/payments/pay_1", "200") is None


async def test_a_method_a_route_does_not_take_is_labelled_with_the_route(
    client: httpx.AsyncClient, metrics: Metrics, spans: Spans
) -> None:
    """A 405 is a request to a real route: one value for it would hide which route is
    being called wrongly (and an alert on 4xx per route would miss it)."""
    assert (await client.delete("/api/v1/payments/pay_1")).status_code == 405
    assert (await client.get("/api/v1/echo")).status_code == 405
    assert (await client.delete("/nowhere")).status_code == 404
    assert http_count(metrics, "/api/v1/payments/{payment_no}", "405", "DELETE") == 1
    assert http_count(metrics, "/api/v1/echo", "405") == 1
    assert http_count(metrics, "unmatched", "404", "DELETE") == 1
    assert {"DELETE /api/v1/payments/{payment_no}", "GET /api/v1/echo"} <= {
        span.name for span in spans.finished()}


async def test_request_and_response_sizes_are_recorded(
    client: httpx.AsyncClient, metrics: Metrics
) -> None:
    response = await client.post("/api/v1/echo", content=b"x" * 300)
    labels = {"method": "POST", "path": "/api/v1/echo"}
    sample = metrics.registry.get_sample_value
    assert sample("payment_gateway_http_request_size_bytes_sum", labels) == 300
    assert sample("payment_gateway_http_response_size_bytes_sum", labels) == len(response.content)


async def test_metrics_endpoint_is_served_but_not_traced(
    client: httpx.AsyncClient, spans: Spans
) -> None:
    await client.get("/api/v1/payments/pay_1")
    response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'path="/api/v1/payments/{payment_no}"' in response.text
    assert TRACE_ID.match(response.headers["x-trace-id"])
    assert "GET /metrics" not in [span.name for span in spans.finished()]


async def test_an_app_that_raises_unhandled_still_answers_500_with_a_trace_id(
    metrics: Metrics, spans: Spans
) -> None:
    async def crashing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("no framework caught this")

    app = ObservabilityMiddleware(crashing, metrics=metrics, tracer_provider=spans.provider)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://paygate.test") as http:
        response = await http.get("/anything")
    assert response.status_code == 500
    assert response.json()["error"]["trace_id"] == response.headers["x-trace-id"]
    assert spans.named("GET").status.status_code is StatusCode.ERROR
    assert http_count(metrics, "unmatched", "500") == 1


async def test_non_http_scopes_pass_straight_through(metrics: Metrics) -> None:
    seen: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def nothing() -> dict[str, str]:
        return {}

    async def ignore(message: object) -> None:
        return None

    await ObservabilityMiddleware(inner, metrics=metrics)({"type": "lifespan"}, nothing, ignore)
    assert seen == ["lifespan"]


async def test_a_body_sent_without_content_length_is_counted_as_it_streams(
    client: httpx.AsyncClient, metrics: Metrics
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"y" * 100

    response = await client.post("/api/v1/echo", content=chunks())
    assert response.json() == {"size": 300}
    assert metrics.registry.get_sample_value(
        "payment_gateway_http_request_size_bytes_sum",
        {"method": "POST", "path": "/api/v1/echo"}) == 300


async def test_a_failure_after_the_response_started_is_raised_to_the_server(
    metrics: Metrics, spans: Spans
) -> None:
    async def half(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ConnectionResetError("client went away")

    sent: list[dict[str, object]] = []

    async def record(message: dict[str, object]) -> None:
        sent.append(message)

    async def nothing() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    app = ObservabilityMiddleware(half, metrics=metrics, tracer_provider=spans.provider)
    scope = {"type": "http", "method": "GET", "path": "/stream", "headers": [
        (b"traceparent", PARENT.encode()), (b"tracestate", b"vendor=1")]}
    with pytest.raises(ConnectionResetError):
        await app(scope, nothing, record)
    assert [message["type"] for message in sent] == ["http.response.start"]
    assert http_count(metrics, "unmatched", "200") == 1
    span = spans.named("GET")
    assert span.context.trace_state.get("vendor") == "1"
    assert [event.name for event in span.events] == ["exception"]


class FlushCounting(Metrics):
    """Real metrics that count how often the middleware hands its buffers over."""

    def __init__(self) -> None:
        super().__init__()
        self.flushes: list[int] = []  # the requests observed so far, at each flush
        self.observed = 0

    def observe_http(self, *args: object) -> None:
        self.observed += 1
        super().observe_http(*args)  # type: ignore[arg-type]

    def flush(self) -> None:
        self.flushes.append(self.observed)
        super().flush()


async def test_buffered_metrics_are_flushed_when_no_request_is_left_in_flight() -> None:
    release = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/slow":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    metrics = FlushCounting()
    middleware = ObservabilityMiddleware(app, metrics=metrics)
    transport = httpx.ASGITransport(app=middleware)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        slow = asyncio.create_task(client.get("/slow"))
        await asyncio.sleep(0.01)
        await client.get("/fast")  # finishes while /slow is still in flight: no flush
        assert metrics.flushes == []
        release.set()
        await slow  # the last one out flushes what both recorded
    assert metrics.flushes == [2]
