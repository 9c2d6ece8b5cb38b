"""OTEL_* settings, the JAEGER_* compatibility mapping and the off switch."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from observability.jaeger_compat import otlp_endpoint_from_jaeger
from observability.sampling import ParentBasedShortcut
from observability.tracing import TracingSettings, build_sampler, build_tracer_provider

SAMPLED_PARENT = SpanContext(0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7,
                             is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))


def test_defaults_sample_everything_and_let_the_exporter_pick_its_endpoint() -> None:
    assert TracingSettings.from_env({}) == TracingSettings(
        enabled=True, service_name="paygate", endpoint=None,
        sampler="parentbased_traceidratio", rate=1.0)


@pytest.mark.parametrize(("legacy", "otlp"), [
    ("http://jaeger:14268/api/traces", "http://jaeger:4318/v1/traces"),
    ("https://tracing.internal:14268/api/traces", "https://tracing.internal:4318/v1/traces"),
    ("http://jaeger:4318", "http://jaeger:4318/v1/traces"),
    ("http://collector:4318/v1/traces", "http://collector:4318/v1/traces"),
])
def test_jaeger_endpoint_becomes_the_otlp_traces_url(legacy: str, otlp: str) -> None:
    assert otlp_endpoint_from_jaeger(legacy) == otlp
    assert TracingSettings.from_env({"JAEGER_ENDPOINT": legacy}).endpoint == otlp


@pytest.mark.parametrize(("legacy", "otlp"), [
    ("http://10.0.0.7:14268/api/traces", "http://10.0.0.7:4318/v1/traces"),
    ("http://10.0.0.7:4318", "http://10.0.0.7:4318/v1/traces"),
    ("http://jaeger.tracing.svc:14250", "http://jaeger.tracing.svc:4318/v1/traces"),
    ("http://jaeger.tracing.svc/api/traces", "http://jaeger.tracing.svc:4318/v1/traces"),
    ("http://[::1]:14268/api/traces", "http://[::1]:4318/v1/traces"),
    ("http://[::1]/api/traces", "http://[::1]:4318/v1/traces"),
    ("https://[2001:db8::7]:14250", "https://[2001:db8::7]:4318/v1/traces"),
    ("http://[fe80::1%25eth0]:14268/api/traces", "http://[fe80::1%25eth0]:4318/v1/traces"),
    ("http://[::1]:4318", "http://[::1]:4318/v1/traces"),
    ("http://[::1]:4318/", "http://[::1]:4318/v1/traces"),
    ("http://[::1]:4318/v1/traces", "http://[::1]:4318/v1/traces"),
])
def test_jaeger_endpoint_keeps_an_ipv4_hostname_or_bracketed_ipv6_host(
        legacy: str, otlp: str) -> None:
    assert otlp_endpoint_from_jaeger(legacy) == otlp
    assert TracingSettings.from_env({"JAEGER_ENDPOINT": legacy}).endpoint == otlp


def test_standard_otlp_endpoint_wins_over_jaeger_endpoint() -> None:
    settings = TracingSettings.from_env({
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318",
        "JAEGER_ENDPOINT": "http://jaeger:14268/api/traces",
    })
    assert settings.endpoint is None  # the exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself


@pytest.mark.parametrize(("env", "rate"), [
    ({"JAEGER_SAMPLING_RATE": "10"}, 0.1),
    ({"JAEGER_SAMPLING_RATE": "0"}, 0.0),
    ({"JAEGER_SAMPLING_RATE": "250"}, 1.0),
    ({"JAEGER_SAMPLING_RATE": "ten"}, 1.0),
    ({"OTEL_TRACES_SAMPLER_ARG": "0.25", "JAEGER_SAMPLING_RATE": "10"}, 0.25),
])
def test_sampling_rate_from_otel_or_jaeger_percentages(env: dict[str, str], rate: float) -> None:
    assert TracingSettings.from_env(env).rate == rate


@pytest.mark.parametrize("env", [
    {"PAYGATE_TRACING": "off"}, {"PAYGATE_TRACING": "false"}, {"OTEL_SDK_DISABLED": "true"},
    {"OTEL_TRACES_EXPORTER": "none"},
])
def test_tracing_can_be_switched_off(env: dict[str, str]) -> None:
    assert TracingSettings.from_env(env).enabled is False


def test_service_name_comes_from_otel_service_name() -> None:
    settings = TracingSettings.from_env({"OTEL_SERVICE_NAME": "paygate-risk"})
    provider = build_tracer_provider(settings, exporter=_NullExporter())
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == "paygate-risk"
    provider.shutdown()


def test_default_sampler_follows_the_parent_then_the_ratio() -> None:
    sampler = build_sampler("parentbased_traceidratio", 0.5)
    assert isinstance(sampler, ParentBasedShortcut)  # a ParentBased (docs/adr/0038)
    assert "TraceIdRatioBased{0.5}" in sampler.get_description()
    assert isinstance(build_sampler("no-such-sampler", 0.5), ParentBasedShortcut)
    for name in ("parentbased_always_on", "parentbased_always_off"):
        assert isinstance(build_sampler(name, 0.5), ParentBasedShortcut), name
    assert isinstance(build_sampler("traceidratio", 0.5), TraceIdRatioBased)


def test_rate_zero_drops_new_traces_but_follows_a_sampled_parent() -> None:
    provider = build_tracer_provider(TracingSettings(rate=0.0), exporter=_NullExporter())
    assert isinstance(provider, TracerProvider)
    tracer = provider.get_tracer("test")
    root = tracer.start_span("root")
    parent = trace.set_span_in_context(NonRecordingSpan(SAMPLED_PARENT))
    child = tracer.start_span("child", context=parent)
    assert (root.is_recording(), child.is_recording()) == (False, True)
    assert child.get_span_context().trace_id == SAMPLED_PARENT.trace_id
    provider.shutdown()


def test_tracing_off_is_the_no_op_provider() -> None:
    provider = build_tracer_provider(TracingSettings(enabled=False))
    assert isinstance(provider, trace.NoOpTracerProvider)
    assert provider.get_tracer("test").start_span("request").is_recording() is False


class _NullExporter:
    def export(self, spans: object) -> object:
        from opentelemetry.sdk.trace.export import SpanExportResult

        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 0) -> bool:
        return True
