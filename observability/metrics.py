"""The Prometheus metrics of the observability contract, owned by one `Metrics` object.

Names, types and labels are fixed by docs/observability.md: dashboards and alerts query
them as written. Nothing is registered at import time; every `Metrics` owns its registry,
so tests build fresh ones and a worker process builds exactly one.

Recording is buffered (`observability.metric_buffers`): a payment adds to plain numbers and
every read of the registry flushes them first, so what a scrape or a test reads is exact.
For the other workers' scrapes in multiprocess mode, the HTTP middleware flushes whenever
its process has no request left in flight, and under constant load a thread flushes
every second.
"""

from __future__ import annotations

import atexit
import os
from typing import Any, Final, NamedTuple

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    values,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from observability.metric_buffers import (
    BufferedCounter,
    BufferedHistogram,
    Buffers,
    FlushOnCollect,
    Observer,
    PeriodicFlush,
)
from observability.multiprocess import MULTIPROC_ENV
from observability.outcomes import PAYMENT_STATUS_LABELS, REFUND_STATUS_LABELS

NAMESPACE: Final = "payment_gateway"

# Seconds, 5 ms to 10 s: the latency alert's 5 s threshold sits on a bucket boundary.
LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Major currency units, 1 to 100k.
AMOUNT_BUCKETS: Final = (
    1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000,
)
# Bytes, 64 B to 1 MiB.
SIZE_BUCKETS: Final = (64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576)

_HTTP = ("method", "path", "status")


class _HttpSeries(NamedTuple):
    requests: BufferedCounter
    duration: BufferedHistogram | Observer
    request_size: BufferedHistogram | Observer
    response_size: BufferedHistogram | Observer


class Metrics:
    """Every paygate metric, with the label children the HTTP middleware uses cached.

    In multiprocess mode (`PROMETHEUS_MULTIPROC_DIR` set before prometheus_client was
    imported) each worker writes its own files and `render` merges them all, so /metrics
    is the same whichever worker answers the scrape.
    """

    content_type: Final = CONTENT_TYPE_PLAIN_0_0_4

    def __init__(
        self, registry: CollectorRegistry | None = None, *, multiprocess_dir: str | None = None,
        flush_interval: float = 1.0,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.multiprocess_dir = multiprocess_dir or os.environ.get(MULTIPROC_ENV) or None
        if self.multiprocess_dir and not getattr(values.ValueClass, "_multiprocess", False):
            raise RuntimeError(
                f"{MULTIPROC_ENV} must be set before prometheus_client is imported: "
                "set it in the parent process before the workers start"
            )
        self._buffers = Buffers()
        self.registry.register(FlushOnCollect(self._buffers))
        self._periodic_flush: PeriodicFlush | None = None
        if self.multiprocess_dir:
            self._periodic_flush = PeriodicFlush(self._buffers, flush_interval)
            atexit.register(self._periodic_flush.stop)
        else:
            for collector in (ProcessCollector, PlatformCollector, GCCollector):
                collector(registry=self.registry)
        self._http_cache: dict[tuple[str, str, int], _HttpSeries] = {}
        self._payment_cache: dict[tuple[str, str, str, bool], tuple[Any, Any, Any]] = {}
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        reg, ns = self.registry, NAMESPACE
        self.http_requests = Counter(
            "http_requests_total", "HTTP requests answered.", _HTTP, namespace=ns, registry=reg)
        self.http_duration = Histogram(
            "http_request_duration_seconds", "Time to answer an HTTP request.", _HTTP,
            namespace=ns, registry=reg, buckets=LATENCY_BUCKETS)
        self.http_request_size = Histogram(
            "http_request_size_bytes", "HTTP request body size.", ("method", "path"),
            namespace=ns, registry=reg, buckets=SIZE_BUCKETS)
        self.http_response_size = Histogram(
            "http_response_size_bytes", "HTTP response body size.", ("method", "path"),
            namespace=ns, registry=reg, buckets=SIZE_BUCKETS)
        self.payments = Counter(
            "payment_total", "Payment attempts by outcome.", ("status", "channel", "currency"),
            namespace=ns, registry=reg)
        self.failovers = Counter(
            "failover_total",
            "Payments tried on the next channel of their route, by the channel left, the "
            "channel tried next and why (not_sent or channel_error).",
            ("from_channel", "to_channel", "reason"), namespace=ns, registry=reg)
        self.refunds = Counter(
            "refund_total", "Refund attempts by outcome.", ("status", "currency"),
            namespace=ns, registry=reg)
        self.payment_amount = Histogram(
            "payment_amount", "Amount of created payments, in major currency units.",
            ("currency", "channel"), namespace=ns, registry=reg, buckets=AMOUNT_BUCKETS)
        self.payment_duration = Histogram(
            "payment_duration_seconds", "Time spent in a business operation.",
            ("operation", "status"), namespace=ns, registry=reg, buckets=LATENCY_BUCKETS)
        self.refund_amount = Histogram(
            "refund_amount", "Amount of created refunds, in major currency units.",
            ("currency",), namespace=ns, registry=reg, buckets=AMOUNT_BUCKETS)
        # the last measurement of whichever worker answered a scrape last
        self.outbox_lag = Gauge(
            "outbox_lag_seconds", "Age of the oldest event not yet published to the feed.",
            namespace=ns, registry=reg, multiprocess_mode="livemostrecent")
        self.webhook_failures = Counter(
            "webhook_delivery_failures_total",
            "Webhook delivery attempts answered other than 2xx or not answered, by endpoint.",
            ("endpoint",), namespace=ns, registry=reg)

    # -- recording ---------------------------------------------------------------------
    def observe_http(
        self, method: str, path: str, status: int, seconds: float,
        request_bytes: int, response_bytes: int,
    ) -> None:
        """One answered request; the label children are looked up once per label set."""
        key = (method, path, status)
        series = self._http_cache.get(key)
        if series is None:
            series = self._http_series(method, path, str(status))
            self._http_cache[key] = series
        with self._buffers.lock:
            series.requests.inc()
            series.duration.observe(seconds)
            series.request_size.observe(request_bytes)
            series.response_size.observe(response_bytes)

    def _http_series(self, method: str, path: str, status: str) -> _HttpSeries:
        return _HttpSeries(
            self._child(self.http_requests, method, path, status),
            self._child(self.http_duration, method, path, status),
            self._child(self.http_request_size, method, path),
            self._child(self.http_response_size, method, path),
        )

    def record_payment(
        self, status: str, channel: str, currency: str, seconds: float, amount: float | None
    ) -> None:
        key = (status, channel, currency, amount is not None)
        series = self._payment_cache.get(key)
        if series is None:  # the amount's series exists once an amount was observed
            series = self._payment_cache[key] = (
                self._outcome(self.payments, PAYMENT_STATUS_LABELS, status, channel, currency),
                self._child(self.payment_duration, "create_payment", status),
                None if amount is None else self._child(self.payment_amount, currency, channel),
            )
        count, duration, sized = series
        with self._buffers.lock:
            count.inc()
            duration.observe(seconds)
            if sized is not None and amount is not None:
                sized.observe(amount)

    def record_failover(self, from_channel: str, to_channel: str, reason: str) -> None:
        """Channel names are the deployment's own (a handful), reasons a closed set."""
        failed_over = self._child(self.failovers, from_channel, to_channel, reason)
        with self._buffers.lock:
            failed_over.inc()

    def record_refund(
        self, status: str, currency: str, seconds: float, amount: float | None
    ) -> None:
        count = self._outcome(self.refunds, REFUND_STATUS_LABELS, status, currency)
        duration = self._child(self.payment_duration, "create_refund", status)
        sized = None if amount is None else self._child(self.refund_amount, currency)
        with self._buffers.lock:
            count.inc()
            duration.observe(seconds)
            if sized is not None:
                sized.observe(amount)

    def record_operation(self, operation: str, status: str, seconds: float) -> None:
        duration = self._child(self.payment_duration, operation, status)
        with self._buffers.lock:
            duration.observe(seconds)

    def set_outbox_lag(self, seconds: float) -> None:
        self.outbox_lag.set(seconds)

    def record_webhook_failure(self, endpoint: str) -> None:
        """`endpoint`: the endpoint's id, or `notify_url` for a payment's own URL."""
        failed = self._child(self.webhook_failures, endpoint)
        with self._buffers.lock:
            failed.inc()

    def _outcome(
        self, counter: Counter, statuses: tuple[str, ...], status: str, *labels: str
    ) -> Any:
        """The buffer of `counter{status, *labels}`. The first time `labels` are seen, every
        other status of them starts at 0 too: a series that appears at 1 has no earlier
        sample, so `rate()` would miss its first increment, and a failure-rate panel would
        show no data on a healthy gateway instead of 0 %."""
        key = (id(counter), (status, *labels))
        child = self._children.get(key)
        if child is None:
            for other in statuses:
                counter.labels(other, *labels)
            child = self._child(counter, status, *labels)
        return child

    def _child(self, metric: Any, *labels: str) -> Any:
        """The buffer of `metric.labels(*labels)`, made once per label set."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            labelled = metric.labels(*labels)
            child = (self._buffers.counter(labelled) if isinstance(metric, Counter)
                     else self._buffers.histogram(labelled))
            self._children[key] = child
        return child

    def flush(self) -> None:
        """Hand every buffered update to prometheus_client now (reads do it themselves;
        in multiprocess mode this makes them visible to the other workers' scrapes)."""
        self._buffers.flush()

    # -- exposition --------------------------------------------------------------------
    def render(self) -> bytes:
        """/metrics in the classic text format (`promtool check metrics` lints it)."""
        if not self.multiprocess_dir:
            return generate_latest(self.registry)
        self._buffers.flush()
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(merged)

    def exported_names(self) -> frozenset[str]:
        """Every sample name a query may use, suffixes included (`_total`, `_bucket`...)."""
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
        return frozenset(
            family.name + suffix
            for family in self.registry.collect()
            for suffix in suffixes.get(family.type, ("",))
        )

    def shutdown(self) -> None:
        """Called by a worker as it exits: its last updates reach its files and its live
        gauges leave the merged view."""
        if self._periodic_flush is not None:
            self._periodic_flush.stop()
        self._buffers.flush()
        if self.multiprocess_dir:
            mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]
