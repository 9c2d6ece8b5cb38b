"""A merchant webhook is delivered in the trace that wrote its event: one client span,
`WebhookDelivery`, whose context the request carries as W3C `traceparent`."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from adapters.platform.webhooks import BlockedDestination, HttpWebhookSender

TRACE_ID, PARENT_ID = "ab" * 16, "cd" * 8
WRITTEN_IN = f"00-{TRACE_ID}-{PARENT_ID}-01"
BODY, HEADERS = b'{"id":"evt_1"}', {"Content-Type": "application/json"}


class Merchant:
    def __init__(self, status: int = 204) -> None:
        self.status, self.requests = status, list[httpx.Request]()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def sender(exporter: InMemorySpanExporter, merchant: Merchant) -> HttpWebhookSender:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    client = httpx.AsyncClient(transport=httpx.MockTransport(merchant))
    return HttpWebhookSender(
        client=client, allow_private=True, tracer=provider.get_tracer("test"))


async def test_the_delivery_is_a_client_span_in_the_trace_that_wrote_the_event(
    exporter: InMemorySpanExporter,
) -> None:
    merchant = Merchant()
    status = await sender(exporter, merchant).post(
        "http://127.0.0.1:9/hooks", BODY, HEADERS, WRITTEN_IN)

    [span] = exporter.get_finished_spans()
    assert status == 204
    assert (span.name, span.kind) == ("WebhookDelivery", SpanKind.CLIENT)
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == PARENT_ID
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 204
    assert span.attributes["server.address"] == "127.0.0.1"
    assert span.status.status_code is StatusCode.UNSET
    [request] = merchant.requests
    sent = request.headers["traceparent"]
    assert sent == f"00-{TRACE_ID}-{span.context.span_id:016x}-01"


async def test_an_answer_other_than_2xx_marks_the_span_as_an_error(
    exporter: InMemorySpanExporter,
) -> None:
    await sender(exporter, Merchant(503)).post("http://127.0.0.1:9/h", BODY, HEADERS, WRITTEN_IN)
    [span] = exporter.get_finished_spans()
    assert (span.status.status_code, span.status.description) == (StatusCode.ERROR, "HTTP 503")


async def test_a_refused_destination_is_recorded_on_the_span(
    exporter: InMemorySpanExporter,
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    strict = HttpWebhookSender(client=httpx.AsyncClient(transport=httpx.MockTransport(Merchant())),
                               tracer=provider.get_tracer("test"))
    with pytest.raises(BlockedDestination):
        await strict.post("http://10.0.0.1/hooks", BODY, HEADERS, WRITTEN_IN)
    [span] = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]


async def test_an_event_written_outside_any_trace_starts_one(
    exporter: InMemorySpanExporter,
) -> None:
    merchant = Merchant()
    await sender(exporter, merchant).post("http://127.0.0.1:9/hooks", BODY, HEADERS)
    [span] = exporter.get_finished_spans()
    assert span.parent is None
    assert merchant.requests[0].headers["traceparent"].split("-")[1] == (
        f"{span.context.trace_id:032x}")
