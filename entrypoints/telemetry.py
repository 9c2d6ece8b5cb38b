"""Observability wiring: the one place that turns metrics, traces and JSON logs on or off.

Everything here wraps from outside: use cases and ports get decorators, the HTTP app gets
the ASGI middleware. With `PAYGATE_METRICS=off` and `PAYGATE_TRACING=off` the same
gateway runs without any of it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from litestar import Litestar
from opentelemetry.trace import Tracer, TracerProvider

from entrypoints.settings import Settings
from observability import decorators, ports
from observability.litestar import instrument, metrics_handler
from observability.logging import configure_logging
from observability.metrics import Metrics
from observability.trace_ids import current_trace_id
from observability.tracing import TracingSettings, configure_tracing, shutdown_tracing

T = TypeVar("T")
Refusal = Callable[[object, BaseException], None]
_metrics_by_pid: dict[int, Metrics] = {}


def process_metrics() -> Metrics:
    """One registry per process (a worker after the fork gets its own)."""
    pid = os.getpid()
    if pid not in _metrics_by_pid:
        _metrics_by_pid[pid] = Metrics()
    return _metrics_by_pid[pid]


@dataclass(frozen=True, slots=True)
class Telemetry:
    metrics: Metrics | None
    provider: TracerProvider | None

    @classmethod
    def for_process(cls, settings: Settings, service_name: str) -> Telemetry:
        provider = None
        if settings.tracing:
            provider = configure_tracing(TracingSettings.from_env(service_name=service_name))
        return cls(process_metrics() if settings.metrics else None, provider)

    @property
    def tracer(self) -> Tracer | None:
        return None if self.provider is None else self.provider.get_tracer("paygate")

    @property
    def trace_id(self) -> Callable[[], str | None]:
        return current_trace_id

    def metrics_route(self, outbox_lag: Callable[[], Awaitable[float]] | None = None) -> Any:
        """/metrics; `outbox_lag`, when given, is measured at each scrape."""
        if self.metrics is None:
            return None
        return metrics_handler(self.metrics, outbox_lag=outbox_lag)

    def shutdown(self) -> None:
        """Flush the spans still queued and let this worker's metric files go."""
        if self.provider is not None:
            shutdown_tracing()
        if self.metrics is not None:
            self.metrics.shutdown()

    def serve(self, app: Litestar, *middleware: Callable[[Any], Any]) -> Any:
        """The ASGI application to hand to the server: `app` wrapped in `middleware` (the
        first innermost), inside the server span and the HTTP metrics."""
        serving: Any = app
        for wrap in middleware:
            serving = wrap(serving)
        return instrument(app, self.metrics, self.provider, serving=serving)

    # -- use cases --------------------------------------------------------------------
    # A metered or traced use case answers the same calls with the same results as the
    # one it wraps, so it is handed back typed as that one (`cast`).
    def create_payment(self, inner: T, channels: Collection[str]) -> tuple[T, Refusal]:
        """The use case metered and traced, and where the HTTP layer tells of a payment
        refused before it could run (a card that fails Luhn): the metered use case counts
        it as a failed payment, labelled from the request, so that a wave of bad cards
        shows on the dashboard."""
        traced: Any = inner
        if self.provider is not None:
            traced = decorators.traced_create_payment(traced, self.tracer)
        if self.metrics is None:
            return cast(T, traced), _unnoticed
        metered = decorators.metered_create_payment(traced, self.metrics, channels)
        return cast(T, metered), metered.refused

    def failovers(self) -> Callable[[str, str, str], None]:
        """payment_gateway_failover_total{from_channel,to_channel,reason}."""
        if self.metrics is None:
            return _unheard_failover
        return self.metrics.record_failover

    def create_refund(self, inner: T) -> T:
        return self._wrap(inner, decorators.metered_create_refund, decorators.traced_create_refund)

    def capture_payment(self, inner: T) -> T:
        wrapped: T = self._wrap(
            inner, decorators.metered_capture_payment, decorators.traced_capture_payment
        )
        return wrapped

    def cancel_payment(self, inner: T) -> T:
        wrapped: T = self._wrap(
            inner, decorators.metered_cancel_payment, decorators.traced_cancel_payment
        )
        return wrapped

    def process_settlement(self, inner: T) -> T:
        return self._wrap(
            inner, decorators.metered_process_settlement, decorators.traced_process_settlement
        )

    def review_payment(self, inner: T) -> T:
        if self.provider is None:
            return inner
        return cast(T, decorators.traced_review_payment(cast(Any, inner), self.tracer))

    def audit_trail(self, inner: T) -> T:
        if self.metrics is None:
            return inner
        return cast(T, decorators.MeteredAuditTrail(inner, self.metrics))

    def _wrap(
        self,
        inner: T,
        metered: Callable[[Any, Metrics], Any],
        traced: Callable[[Any, Tracer | None], Any],
    ) -> T:
        wrapped: Any = inner
        if self.provider is not None:
            wrapped = traced(wrapped, self.tracer)
        if self.metrics is not None:
            wrapped = metered(wrapped, self.metrics)
        return cast(T, wrapped)

    # -- ports --------------------------------------------------------------------------
    def risk(self, inner: T) -> T:
        return inner if self.provider is None else ports.traced_risk(inner, self.tracer)

    def orders(self, inner: T) -> T:
        return inner if self.provider is None else ports.traced_order(inner, self.tracer)

    def webhook_sender(self, inner: T) -> T:
        """Delivery failures by endpoint (the delivery's span is the sender's own)."""
        return inner if self.metrics is None else ports.metered_webhook_sender(inner, self.metrics)

    def channels(self, inner: Mapping[str, T]) -> dict[str, T]:
        if self.provider is None:
            return dict(inner)
        return ports.traced_channels(inner, self.tracer)


def _unheard_failover(from_channel: str, to_channel: str, reason: str) -> None:
    """Without metrics, a failover is only its attempts."""


def _unnoticed(request: object, error: BaseException) -> None:
    """Without metrics, a refusal is only its HTTP answer."""


def configure_process_logging(settings: Settings) -> None:
    """JSON lines for this process, Python's warnings among them; no uvicorn access log
    (the canonical line per request, entrypoints/edge/canonical_log.py, says more)."""
    configure_logging(settings.log_level.upper())
    logging.captureWarnings(True)
    logging.getLogger("uvicorn.access").disabled = True
