"""OpenTelemetry setup: one `TracerProvider` per worker process, spans exported over OTLP.

Jaeger ingests OTLP natively, so there is no Jaeger exporter (docs/adr/0003). The
settings are the standard `OTEL_*` variables, plus the original platform's
`JAEGER_ENDPOINT` / `JAEGER_SAMPLING_RATE` and a `PAYGATE_TRACING=off` switch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Sampler,
    TraceIdRatioBased,
)

from observability.edge_sampling import EdgeIdGenerator
from observability.jaeger_compat import otlp_endpoint_from_jaeger, sampling_rate
from observability.sampling import ParentBasedShortcut

DEFAULT_SERVICE_NAME = "paygate"
DEFAULT_SAMPLER = "parentbased_traceidratio"
_OFF = frozenset({"off", "false", "0", "no", "none"})
_log = logging.getLogger(__name__)
_configured: dict[int, trace.TracerProvider] = {}  # pid -> provider of that process


@dataclass(frozen=True, slots=True)
class TracingSettings:
    """What `configure_tracing` builds. `endpoint=None` lets the exporter read `OTEL_*`."""

    enabled: bool = True
    service_name: str = DEFAULT_SERVICE_NAME
    endpoint: str | None = None
    sampler: str = DEFAULT_SAMPLER
    rate: float = 1.0

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, service_name: str = DEFAULT_SERVICE_NAME
    ) -> TracingSettings:
        env = os.environ if env is None else env
        enabled = (
            env.get("PAYGATE_TRACING", "on").strip().lower() not in _OFF
            and env.get("OTEL_SDK_DISABLED", "").strip().lower() != "true"
            and env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() != "none"
        )
        standard = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT")
        legacy = env.get("JAEGER_ENDPOINT")
        return cls(
            enabled=enabled,
            service_name=env.get("OTEL_SERVICE_NAME") or service_name,
            endpoint=None if standard or not legacy else otlp_endpoint_from_jaeger(legacy),
            sampler=env.get("OTEL_TRACES_SAMPLER", DEFAULT_SAMPLER).strip().lower(),
            rate=sampling_rate(env),
        )


def build_sampler(name: str, rate: float) -> Sampler:
    """The `OTEL_TRACES_SAMPLER` names; the default follows an incoming sampled parent.
    The `parentbased_*` ones are the SDK's `ParentBased`, deciding a sampled local
    parent's child in one step (`ParentBasedShortcut`, docs/adr/0038)."""
    samplers: dict[str, Sampler] = {
        "always_on": ALWAYS_ON,
        "always_off": ALWAYS_OFF,
        "traceidratio": TraceIdRatioBased(rate),
        "parentbased_always_on": ParentBasedShortcut(ALWAYS_ON),
        "parentbased_always_off": ParentBasedShortcut(ALWAYS_OFF),
        "parentbased_traceidratio": ParentBasedShortcut(TraceIdRatioBased(rate)),
    }
    if name not in samplers:
        _log.warning("unknown OTEL_TRACES_SAMPLER %r: using parentbased_traceidratio", name)
    return samplers.get(name, samplers[DEFAULT_SAMPLER])


def build_tracer_provider(
    settings: TracingSettings, exporter: SpanExporter | None = None
) -> trace.TracerProvider:
    """A provider for these settings. Tracing off is the API's no-op provider: not even a
    sampling decision per span; the HTTP middleware still makes ids for X-Trace-ID."""
    if not settings.enabled:
        return trace.NoOpTracerProvider()
    provider = TracerProvider(sampler=build_sampler(settings.sampler, settings.rate),
                              resource=Resource.create({SERVICE_NAME: settings.service_name}),
                              id_generator=EdgeIdGenerator())  # sampling at the edge
    provider.add_span_processor(BatchSpanProcessor(exporter or otlp_exporter(settings.endpoint)))
    return provider


def otlp_exporter(endpoint: str | None = None) -> SpanExporter:
    """The OTLP/HTTP exporter (`endpoint=None` reads `OTEL_EXPORTER_OTLP_*`), imported
    only when tracing is on."""
    from observability.otlp_export import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint)


def configure_tracing(
    settings: TracingSettings | None = None, exporter: SpanExporter | None = None
) -> trace.TracerProvider:
    """Install the global provider of this process. Call it in each worker, after the fork
    (an app factory or a startup hook): the batch exporter's thread does not survive a fork.
    Calling it again in the same process returns the provider already installed."""
    pid = os.getpid()
    if pid in _configured:
        return _configured[pid]
    provider: trace.TracerProvider
    inherited = trace.get_tracer_provider()
    if isinstance(inherited, TracerProvider):  # forked from a configured parent: the SDK
        provider = inherited                    # re-arms its batch thread in the child
    else:
        provider = build_tracer_provider(settings or TracingSettings.from_env(), exporter)
        trace.set_tracer_provider(provider)
    _configured.clear()
    _configured[pid] = provider
    return provider


def shutdown_tracing() -> None:
    """Flush and stop this process's exporter (a worker's shutdown hook)."""
    provider = _configured.pop(os.getpid(), None)
    if isinstance(provider, TracerProvider):
        provider.shutdown()
