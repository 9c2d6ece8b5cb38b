"""The Prometheus metrics of the observability contract, owned by one `Metrics` object.

Names, types and labels are fixed by docs/observability.md: dashboards and alerts query
them as written. Nothing is registered at import time; every `Metrics` owns its registry,
so tests build fresh ones and a worker process builds exactly one.

Recording is pre-aggregated (`observability.collector`): a payment adds to plain numbers
and a custom collector builds the families whenever the registry is read, so what a
scrape or a test reads is exact. The two latency histograms carry the trace id of a
sampled request as an exemplar, shown in the OpenMetrics exposition (`render_for`).
In multiprocess mode each worker writes its numbers to its own file: when it has no
request left in flight (the HTTP middleware calls `flush`), every second under constant
load, and as it exits; a scrape adds up every worker's file.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from typing import Final, NamedTuple

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, choose_encoder

from observability.collector import (
    AggregateCollector,
    Aggregates,
    CounterFamily,
    CounterSeries,
    HistogramFamily,
    HistogramSeries,
    SharedDirectory,
)
from observability.multiprocess import MULTIPROC_ENV
from observability.outcomes import PAYMENT_STATUS_LABELS, REFUND_STATUS_LABELS
from observability.trace_ids import sampled_trace_id

NAMESPACE: Final = "payment_gateway"

# Seconds, 5 ms to 10 s. 3 s is the latency SLO's threshold (share of payments under it
# = the `le="3.0"` bucket over the count); 0.75 s to 5 s is the P99 region, bounded every
# half second or so, so histogram_quantile(0.99) is interpolated over a narrow bucket;
# the HighPaymentLatency alert's 5 s threshold stays a boundary.
LATENCY_BUCKETS: Final = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5,
    10.0,
)
# Major currency units, 1 to 100k.
AMOUNT_BUCKETS: Final = (
    1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000,
)
# Bytes, 64 B to 1 MiB.
SIZE_BUCKETS: Final = (64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576)
OPENMETRICS: Final = "application/openmetrics-text"

_HTTP = ("method", "path", "status")


class _HttpSeries(NamedTuple):
    requests: CounterSeries
    duration: HistogramSeries
    request_size: HistogramSeries
    response_size: HistogramSeries


class PeriodicFlush:
    """A daemon thread that writes this worker's numbers every `interval` seconds until
    `stop` (a write costs ~75 µs; a flag per update to skip unchanged ones cost every
    payment more)."""

    def __init__(self, metrics: Metrics, interval: float) -> None:
        self._metrics, self._interval = metrics, interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="paygate-metrics-flush", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            self._metrics.flush()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
        self._metrics.flush()


class Metrics:
    """Every paygate metric, with the label series the HTTP middleware uses cached.

    In multiprocess mode (`PROMETHEUS_MULTIPROC_DIR` set, as prometheus_client documents
    it, or `multiprocess_dir` given) each worker writes its own file and every read adds
    them all up, so /metrics is the same whichever worker answers the scrape.
    """

    content_type: Final = CONTENT_TYPE_PLAIN_0_0_4

    def __init__(
        self, registry: CollectorRegistry | None = None, *, multiprocess_dir: str | None = None,
        flush_interval: float = 1.0,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.multiprocess_dir = multiprocess_dir or os.environ.get(MULTIPROC_ENV) or None
        self._aggregates = agg = Aggregates()
        self._shared = SharedDirectory(self.multiprocess_dir) if self.multiprocess_dir else None
        self._http_cache: dict[tuple[str, str, int], _HttpSeries] = {}
        self._payment_cache: dict[
            tuple[str, str, str, bool],
            tuple[CounterSeries, HistogramSeries, HistogramSeries | None]] = {}
        self._children: dict[tuple[int, tuple[str, ...]], CounterSeries | HistogramSeries] = {}
        ns = NAMESPACE + "_"
        self.http_requests = agg.counter(
            ns + "http_requests", "HTTP requests answered.", _HTTP)
        self.http_duration = agg.histogram(
            ns + "http_request_duration_seconds", "Time to answer an HTTP request.", _HTTP,
            LATENCY_BUCKETS)
        self.http_request_size = agg.histogram(
            ns + "http_request_size_bytes", "HTTP request body size.", ("method", "path"),
            SIZE_BUCKETS)
        self.http_response_size = agg.histogram(
            ns + "http_response_size_bytes", "HTTP response body size.", ("method", "path"),
            SIZE_BUCKETS)
        self.payments = agg.counter(
            ns + "payment", "Payment attempts by outcome.", ("status", "channel", "currency"))
        self.refunds = agg.counter(
            ns + "refund", "Refund attempts by outcome.", ("status", "currency"))
        self.payment_amount = agg.histogram(
            ns + "payment_amount", "Amount of created payments, in major currency units.",
            ("currency", "channel"), AMOUNT_BUCKETS)
        self.payment_duration = agg.histogram(
            ns + "payment_duration_seconds", "Time spent in a business operation.",
            ("operation", "status"), LATENCY_BUCKETS)
        self.refund_amount = agg.histogram(
            ns + "refund_amount", "Amount of created refunds, in major currency units.",
            ("currency",), AMOUNT_BUCKETS)
        # the last measurement of whichever worker set it last (and is still running)
        self.outbox_lag = agg.gauge(
            ns + "outbox_lag_seconds", "Age of the oldest event not yet published to the feed.")
        self.webhook_failures = agg.counter(
            ns + "webhook_delivery_failures",
            "Webhook delivery attempts answered other than 2xx or not answered, by endpoint.",
            ("endpoint",))
        self.failovers = agg.counter(
            ns + "failover",
            "Payments tried on the next channel of their route, by the channel left, the "
            "channel tried next and why (not_sent or channel_error).",
            ("from_channel", "to_channel", "reason"))
        self.payment_faults = agg.counter(
            ns + "payment_faults",
            "Payments answered with an outcome that is the gateway's fault, by reason.",
            ("reason",))
        self.operator_actions = agg.counter(
            ns + "operator_actions",
            "Operator actions written to the audit trail, by the operator's role and the action.",
            ("role", "action"))
        self._periodic_flush: PeriodicFlush | None = None
        if self._shared is not None:
            earlier = self._shared.own_totals()
            if earlier is not None:  # this pid ran before: continue its totals
                agg.add(earlier)
            self.registry.register(AggregateCollector(agg, self._shared))
            self._periodic_flush = PeriodicFlush(self, flush_interval)
            atexit.register(self._periodic_flush.stop)
        else:
            self.registry.register(AggregateCollector(agg))
            for collector in (ProcessCollector, PlatformCollector, GCCollector):
                collector(registry=self.registry)

    # -- recording ---------------------------------------------------------------------
    def observe_http(
        self, method: str, path: str, status: int, seconds: float,
        request_bytes: int, response_bytes: int, trace_id: str | None = None,
    ) -> None:
        """One answered request; the label series are looked up once per label set.
        `trace_id`: the request's, when it was sampled (the duration's exemplar)."""
        key = (method, path, status)
        series = self._http_cache.get(key)
        if series is None:
            with self._aggregates.lock:  # a scrape on another thread may be reading
                series = self._http_series(method, path, str(status))
            self._http_cache[key] = series
        with self._aggregates.lock:
            series.requests.inc()
            series.duration.observe(seconds, trace_id)
            series.request_size.observe(request_bytes)
            series.response_size.observe(response_bytes)

    def _http_series(self, method: str, path: str, status: str) -> _HttpSeries:
        return _HttpSeries(
            self.http_requests.labels(method, path, status),
            self.http_duration.labels(method, path, status),
            self.http_request_size.labels(method, path),
            self.http_response_size.labels(method, path),
        )

    def record_payment(
        self, status: str, channel: str, currency: str, seconds: float, amount: float | None
    ) -> None:
        key = (status, channel, currency, amount is not None)
        series = self._payment_cache.get(key)
        if series is None:  # the amount's series exists once an amount was observed
            series = self._payment_cache[key] = (
                self._outcome(self.payments, PAYMENT_STATUS_LABELS, status, channel, currency),
                self._histogram(self.payment_duration, "create_payment", status),
                None if amount is None
                else self._histogram(self.payment_amount, currency, channel),
            )
        count, duration, sized = series
        trace_id = sampled_trace_id()
        with self._aggregates.lock:
            count.inc()
            duration.observe(seconds, trace_id)
            if sized is not None and amount is not None:
                sized.observe(amount)

    def record_failover(self, from_channel: str, to_channel: str, reason: str) -> None:
        """Channel names are the deployment's own (a handful), reasons a closed set."""
        failed_over = self._counter(self.failovers, from_channel, to_channel, reason)
        with self._aggregates.lock:
            failed_over.inc()

    def record_refund(
        self, status: str, currency: str, seconds: float, amount: float | None
    ) -> None:
        count = self._outcome(self.refunds, REFUND_STATUS_LABELS, status, currency)
        duration = self._histogram(self.payment_duration, "create_refund", status)
        sized = None if amount is None else self._histogram(self.refund_amount, currency)
        trace_id = sampled_trace_id()
        with self._aggregates.lock:
            count.inc()
            duration.observe(seconds, trace_id)
            if sized is not None and amount is not None:
                sized.observe(amount)

    def record_operation(self, operation: str, status: str, seconds: float) -> None:
        duration = self._histogram(self.payment_duration, operation, status)
        trace_id = sampled_trace_id()
        with self._aggregates.lock:
            duration.observe(seconds, trace_id)

    def set_outbox_lag(self, seconds: float) -> None:
        gauge = self.outbox_lag
        with self._aggregates.lock:
            gauge.value, gauge.updated = float(seconds), time.time()
        if self._shared is not None:  # rare (a scrape, a publisher's tick): written at once
            self._shared.write_live(gauge)

    def record_webhook_failure(self, endpoint: str) -> None:
        """`endpoint`: the endpoint's id, or `notify_url` for a payment's own URL."""
        failed = self._counter(self.webhook_failures, endpoint)
        with self._aggregates.lock:
            failed.inc()

    def start_payment_faults(self, reasons: tuple[str, ...]) -> None:
        """Every reason's series at 0, so `rate()` sees its first fault."""
        for reason in reasons:
            self._counter(self.payment_faults, reason)

    def record_payment_fault(self, reason: str) -> None:
        """`reason`: one of observability.payment_faults.FAULT_REASONS."""
        fault = self._counter(self.payment_faults, reason)
        with self._aggregates.lock:
            fault.inc()

    def record_operator_action(self, role: str, action: str) -> None:
        done = self._counter(self.operator_actions, role, action)
        with self._aggregates.lock:
            done.inc()

    def _outcome(
        self, counter: CounterFamily, statuses: tuple[str, ...], status: str, *labels: str
    ) -> CounterSeries:
        """The series of `counter{status, *labels}`. The first time `labels` are seen, every
        other status of them starts at 0 too: a series that appears at 1 has no earlier
        sample, so `rate()` would miss its first increment, and a failure-rate panel would
        show no data on a healthy gateway instead of 0 %."""
        key = (id(counter), (status, *labels))
        child = self._children.get(key)
        if child is None:
            with self._aggregates.lock:
                for other in statuses:
                    counter.labels(other, *labels)
            return self._counter(counter, status, *labels)
        assert isinstance(child, CounterSeries)
        return child

    def _counter(self, family: CounterFamily, *labels: str) -> CounterSeries:
        """The series of `family{labels}`, looked up once per label set."""
        key = (id(family), labels)
        child = self._children.get(key)
        if child is None:
            with self._aggregates.lock:  # a scrape on another thread may be reading
                child = self._children[key] = family.labels(*labels)
        assert isinstance(child, CounterSeries)
        return child

    def _histogram(self, family: HistogramFamily, *labels: str) -> HistogramSeries:
        key = (id(family), labels)
        child = self._children.get(key)
        if child is None:
            with self._aggregates.lock:
                child = self._children[key] = family.labels(*labels)
        assert isinstance(child, HistogramSeries)
        return child

    def flush(self) -> None:
        """Multiprocess mode: write this worker's numbers to its file now, for the other
        workers' scrapes (its own reads see them anyway). Otherwise nothing."""
        if self._shared is not None:
            self._shared.write_totals(self._aggregates)

    # -- exposition --------------------------------------------------------------------
    def render(self) -> bytes:
        """/metrics in the classic text format (`promtool check metrics` lints it)."""
        return generate_latest(self.registry)

    def render_for(self, accept: str | None) -> tuple[bytes, str]:
        """/metrics for a scraper's `Accept` header: OpenMetrics (exemplars included) when
        it asks for `application/openmetrics-text`, the classic text format otherwise.
        Returns the body and its content type."""
        if accept and OPENMETRICS in accept:
            encode, content_type = choose_encoder(accept)
            if content_type.startswith(OPENMETRICS):
                return encode(self.registry), content_type
        return self.render(), self.content_type

    def exported_names(self) -> frozenset[str]:
        """Every sample name a query may use, suffixes included (`_total`, `_bucket`...)."""
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
        return frozenset(
            family.name + suffix
            for family in self.registry.collect()
            for suffix in suffixes.get(family.type, ("",))
        )

    def shutdown(self) -> None:
        """Called by a worker as it exits: its last numbers reach its file and its live
        gauge leaves the merged view."""
        if self._periodic_flush is not None:
            atexit.unregister(self._periodic_flush.stop)
            self._periodic_flush.stop()
        if self._shared is not None:
            self._shared.write_totals(self._aggregates)
            self._shared.close()
            self._shared.drop_live()
