"""The process-wide provider: installed once per process, flushed at shutdown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

from observability.tracing import TracingSettings, configure_tracing, shutdown_tracing


@pytest.fixture
def fresh_global_provider() -> Iterator[None]:
    """The API allows one global provider per process: put the unset state back after."""
    saved = trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE
    trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE = None, Once()
    yield
    trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE = saved


@pytest.mark.usefixtures("fresh_global_provider")
def test_configure_installs_one_provider_and_shutdown_flushes_it() -> None:
    exporter = InMemorySpanExporter()
    provider = configure_tracing(TracingSettings(service_name="paygate-test"), exporter)
    assert configure_tracing(TracingSettings(service_name="other"), exporter) is provider
    assert trace.get_tracer_provider() is provider
    with trace.get_tracer("paygate").start_as_current_span("CreatePayment"):
        pass
    shutdown_tracing()
    assert [span.name for span in exporter.get_finished_spans()] == ["CreatePayment"]
    assert exporter.get_finished_spans()[0].resource.attributes["service.name"] == "paygate-test"


@pytest.mark.usefixtures("fresh_global_provider")
def test_a_provider_inherited_from_the_parent_process_is_kept() -> None:
    inherited = TracerProvider()
    trace.set_tracer_provider(inherited)
    assert configure_tracing(TracingSettings(), InMemorySpanExporter()) is inherited
    shutdown_tracing()


@pytest.mark.usefixtures("fresh_global_provider")
def test_tracing_off_installs_the_no_op_provider() -> None:
    provider = configure_tracing(TracingSettings(enabled=False))
    assert isinstance(provider, trace.NoOpTracerProvider)
    shutdown_tracing()
