"""The middleware around a tiny Litestar app: X-Trace-ID, the server span, HTTP metrics."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.params import FromPath
from opentelemetry.trace import SpanKind, StatusCode

from observability.asgi import ObservabilityMiddleware
from observability.asgi_types import Receive, Scope, Send
from observability.decorators import traced_create_payment
from observability.litestar import instrument, metrics_handler
from observability.metrics import Metrics
from observability.trace_ids import current_trace_id
from observability.tracing import TracingSettings, build_tracer_provider
from tests.unit.observability.builders import StubUseCase, payment_command
from tests.unit.observability.conftest import Spans, spans_with_rate

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Refused(Exception):
    """What a use case raises for a broken rule; the app maps it to an error body."""


def tiny_app(metrics: Metrics, spans: Spans) -> Litestar:
    @get("/api/v1/payments/{payment_no:str}")
    async def show(payment_no: FromPath[str]) -> dict[str, str]:
        await traced_create_payment(StubUseCase("ok"), spans.tracer)(payment_command())
        return {"payment_no": payment_no}

    @post("/api/v1/echo", status_code=201)
    async def echo(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @get("/boom")
    async def boom() -> None:
        raise RuntimeError("database exploded")

    @get("/refused")
    async def refused() -> None:
        raise Refused("amount_exceeded")

    def error_body(_: Request, exc: Refused) -> Response[dict[str, object]]:
        return Response({"error": {"code": str(exc), "trace_id": current_trace_id()}},
                        status_code=422, media_type=MediaType.JSON)

    return Litestar([show, echo, boom, refused, metrics_handler(metrics)], logging_config=None,
                    exception_handlers={Refused: error_body})


@pytest.fixture
async def client(metrics: Metrics, spans: Spans) -> AsyncIterator[httpx.AsyncClient]:
    app = instrument(tiny_app(metrics, spans), metrics, spans.provider)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://paygate.test") as http:
        yield http


def http_count(metrics: Metrics, path: str, status: str, method: str = "GET") -> float | None:
    return metrics.registry.get_sample_value(
        "payment_gateway_http_requests_total", {"method": method, "path": path, "status": status})


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


async def test_metrics_label_the_template_and_one_value_for_unmatched_paths(
    client: httpx.AsyncClient, metrics: Metrics
) -> None:
    for path in ("/api/v1/payments/pay_1", "/api/v1/payments/pay_2", "/x", "/y/z", "/boom"):
        await client.get(path)
    assert http_count(metrics, "/api/v1/payments/{payment_no}", "200") == 2
    assert http_count(metrics, "unmatched", "404") == 2
    assert http_count(metrics, "/boom", "500") == 1
    assert http_count(metrics, "/api/v1/payments/pay_1", "200") is None


async def test_request_and_response_sizes_are_recorded(
    client: httpx.AsyncClient, metrics: Metrics
) -> None:
    response = await client.post("/api/v1/echo", content=b"x" * 300)
    labels = {"method": "POST", "path": "/api/v1/echo"}
    sample = metrics.registry.get_sample_value
    assert sample("payment_gateway_http_request_size_bytes_sum", labels) == 300
    assert sample("payment_gateway_http_response_size_bytes_sum", labels) == len(response.content)


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
