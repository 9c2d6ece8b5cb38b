"""Spans leave the process over OTLP/HTTP, as Jaeger would receive them."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest
from litestar import Litestar, post
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as SdkOTLPSpanExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from otlp_receiver import Received, otlp_receiver

from domain.risk import RiskDecision, Verdict
from observability import otlp_export
from observability.decorators import traced_create_payment
from observability.litestar import instrument
from observability.otlp_export import OTLPSpanExporter
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


def finished_spans() -> list[ReadableSpan]:
    """A payment's server span and CreatePayment, one failed with an exception event."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "paygate"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("paygate")
    with tracer.start_as_current_span("POST /api/v1/payments", kind=SpanKind.SERVER) as server:
        server.set_attributes({"http.route": "/api/v1/payments", "http.response.status_code": 500})
        with tracer.start_as_current_span("CreatePayment") as create:
            create.record_exception(TimeoutError("no answer"))
            create.set_status(Status(StatusCode.ERROR, "TimeoutError"))
    return list(exporter.get_finished_spans())


class TestTheExporter:
    def test_it_posts_byte_for_byte_what_the_sdk_exporter_posts(self) -> None:
        spans = finished_spans()
        with otlp_receiver() as (url, received):
            ours = OTLPSpanExporter(endpoint=f"{url}/v1/traces")
            sdk = SdkOTLPSpanExporter(endpoint=f"{url}/v1/traces")
            results = [ours.export(spans), sdk.export(spans)]
        assert results == [SpanExportResult.SUCCESS] * 2
        assert received.bodies[0] == received.bodies[1]
        assert set(received.spans()) == {"POST /api/v1/payments", "CreatePayment"}

    def test_a_batch_the_fast_encoder_cannot_write_goes_through_the_sdk_encoder(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(spans: object) -> bytes:
            raise RuntimeError("unexpected span")

        monkeypatch.setattr(otlp_export, "encode_spans", broken)
        with otlp_receiver() as (url, received):
            result = OTLPSpanExporter(endpoint=f"{url}/v1/traces").export(finished_spans())
        assert result is SpanExportResult.SUCCESS
        assert set(received.spans()) == {"POST /api/v1/payments", "CreatePayment"}

    def test_gzip_and_headers_from_the_standard_settings(self) -> None:
        with otlp_receiver() as (url, received):
            exporter = OTLPSpanExporter(env={
                "OTEL_EXPORTER_OTLP_ENDPOINT": url,
                "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "gzip",
                "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=paygate"})
            assert exporter.export(finished_spans()) is SpanExportResult.SUCCESS
        assert received.paths == ["/v1/traces"]
        assert set(received.spans()) == {"POST /api/v1/payments", "CreatePayment"}
        assert (exporter.endpoint, exporter.gzip) == (f"{url}/v1/traces", True)

    def test_a_batch_over_the_size_limit_is_dropped_with_a_warning(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        with otlp_receiver() as (url, received):
            exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces", max_request_size=64)
            assert exporter.export(finished_spans()) is SpanExportResult.FAILURE
        assert received.requests == []
        assert "over the 64-byte limit" in caplog.text

    def test_an_unreachable_collector_is_a_failure(self) -> None:
        exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{free_port()}/v1/traces",
                                    timeout=0.5)
        assert exporter.export(finished_spans()) is SpanExportResult.FAILURE

    def test_after_shutdown_nothing_is_sent(self) -> None:
        with otlp_receiver() as (url, received):
            exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces")
            exporter.shutdown()
            assert exporter.export(finished_spans()) is SpanExportResult.FAILURE
        assert received.requests == []

    def test_tracing_settings_build_this_exporter(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        built: list[OTLPSpanExporter] = []

        def build(**kwargs: object) -> OTLPSpanExporter:
            built.append(OTLPSpanExporter(**kwargs))  # type: ignore[arg-type]
            return built[-1]

        monkeypatch.setattr(otlp_export, "OTLPSpanExporter", build)
        with otlp_receiver() as (url, received):
            provider = build_tracer_provider(TracingSettings(endpoint=f"{url}/v1/traces"))
            assert isinstance(provider, TracerProvider)
            try:
                provider.get_tracer("paygate").start_span("CreatePayment").end()
                assert provider.force_flush()
            finally:
                provider.shutdown()
        assert [exporter.endpoint for exporter in built] == [f"{url}/v1/traces"]
        assert list(received.spans()) == ["CreatePayment"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def export_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every line at INFO or above, from any logger (the SDK's included)."""
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.INFO]


class TestNoCollector:
    """Issue 25, finding 7: no OTLP collector -> one warning at start and one when export
    recovers, nothing in between."""

    def test_one_warning_while_unreachable_and_one_line_when_it_recovers(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        port = free_port()  # nobody listens here yet
        exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces", timeout=1)
        spans = finished_spans()
        for _ in range(5):
            assert exporter.export(spans) is SpanExportResult.FAILURE
        [warning] = export_log(caplog)
        assert warning.startswith(f"OTLP trace export to http://127.0.0.1:{port}/v1/traces failed")
        assert "NewConnectionError" in warning or "Connection refused" in warning
        caplog.clear()
        with otlp_receiver(port) as (_, received):
            for _ in range(3):
                assert exporter.export(spans) is SpanExportResult.SUCCESS
        assert export_log(caplog) == [
            f"OTLP trace export to http://127.0.0.1:{port}/v1/traces recovered after 5 "
            "undelivered batches"]
        assert len(received.requests) == 3
        caplog.clear()
        assert exporter.export(spans) is SpanExportResult.FAILURE  # down again: said again
        assert len(export_log(caplog)) == 1

    def test_through_the_sdk_s_batch_processor_too(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)
        port = free_port()
        provider = TracerProvider(resource=Resource.create({"service.name": "paygate"}))
        provider.add_span_processor(BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces", timeout=1),
            schedule_delay_millis=10))
        tracer = provider.get_tracer("paygate")
        try:
            for _ in range(4):
                with tracer.start_as_current_span("POST /api/v1/payments"):
                    pass
                assert provider.force_flush()
            assert len(export_log(caplog)) == 1
            with otlp_receiver(port) as (_, received):
                for _ in range(2):
                    with tracer.start_as_current_span("POST /api/v1/payments"):
                        pass
                    assert provider.force_flush()
            assert len(received.requests) >= 1
        finally:
            provider.shutdown()
        lines = export_log(caplog)
        assert len(lines) == 2
        assert "failed" in lines[0]
        assert "recovered" in lines[1]
