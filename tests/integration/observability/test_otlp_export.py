"""Spans leave the process over OTLP/HTTP, as Jaeger would receive them."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar, post
from otlp_receiver import Received, otlp_receiver

from domain.risk import RiskDecision, Verdict
from observability.decorators import traced_create_payment
from observability.litestar import instrument
from observability.ports import traced_risk
from observability.tracing import TracingSettings, build_tracer_provider

CARD = "4242424242424242"
PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


class Risk:
    async def assess(self, request: object) -> RiskDecision:
        return RiskDecision(Verdict.APPROVE, 7)


class Command:
    merchant_id, order_no, amount, currency, card_number = "mer_1", "O-1", 2500, "USD", CARD


async def pay_through_the_app(settings: TracingSettings, traceparent: str | None) -> str:
    """One POST through middleware, use case span and port span; returns X-Trace-ID."""
    provider = build_tracer_provider(settings)
    tracer = provider.get_tracer("paygate")
    risk = traced_risk(Risk(), tracer)

    async def create_payment(command: Command) -> RiskDecision:
        return await risk.assess(command)

    use_case = traced_create_payment(create_payment, tracer)

    @post("/api/v1/payments", status_code=201)
    async def create() -> dict[str, str]:
        await use_case(Command())
        return {"status": "succeeded"}

    app = instrument(Litestar([create], logging_config=None), None, provider)
    headers = {"traceparent": traceparent} if traceparent else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://paygate.test") as http:
        response = await http.post("/api/v1/payments", json={"card": CARD}, headers=headers)
    provider.force_flush()
    provider.shutdown()
    return response.headers["x-trace-id"]


def assert_one_trace(received: Received, trace_id: str) -> None:
    spans = received.spans()
    server, business, port = (spans["POST /api/v1/payments"], spans["CreatePayment"],
                              spans["RiskCheck"])
    assert {span.trace_id.hex() for span in spans.values()} == {trace_id}
    assert business.parent_span_id == server.span_id
    assert port.parent_span_id == business.span_id
    attributes = {a.key: a.value for a in port.attributes}
    assert (attributes["risk.decision"].string_value, attributes["risk.score"].int_value) == (
        "approve", 7)
    assert all(CARD.encode() not in body for body in received.bodies)


async def test_jaeger_endpoint_delivers_the_trace_over_otlp_http() -> None:
    with otlp_receiver() as (url, received):
        env = {"JAEGER_ENDPOINT": url, "OTEL_SERVICE_NAME": "paygate-under-test"}
        trace_id = await pay_through_the_app(TracingSettings.from_env(env), None)
    assert received.paths == ["/v1/traces"]
    assert received.service_names() == {"paygate-under-test"}
    assert_one_trace(received, trace_id)
    assert received.spans()["POST /api/v1/payments"].parent_span_id == b""


async def test_standard_otel_endpoint_and_an_incoming_parent_are_honoured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with otlp_receiver() as (url, received):
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
        settings = TracingSettings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": url,
                                             "JAEGER_SAMPLING_RATE": "0"})
        parent = f"00-{PARENT_TRACE}-00f067aa0ba902b7-01"
        trace_id = await pay_through_the_app(settings, parent)
    assert trace_id == PARENT_TRACE
    assert_one_trace(received, PARENT_TRACE)
    assert received.spans()["POST /api/v1/payments"].parent_span_id.hex() == "00f067aa0ba902b7"


async def test_rate_zero_sends_nothing_yet_answers_with_a_trace_id() -> None:
    with otlp_receiver() as (url, received):
        settings = TracingSettings.from_env({"JAEGER_ENDPOINT": url,
                                             "JAEGER_SAMPLING_RATE": "0"})
        trace_id = await pay_through_the_app(settings, None)
    assert len(trace_id) == 32
    assert received.requests == []
