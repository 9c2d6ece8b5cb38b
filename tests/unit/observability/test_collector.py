"""The pre-aggregating collector: what it renders is what prometheus_client would render,
and each histogram bucket keeps the last sampled request's trace id as an exemplar."""

from __future__ import annotations

import math
import threading
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from observability.collector import AggregateCollector, Aggregates, SharedDirectory

BOUNDS = (0.005, 0.01, 0.05, 1.0, 10.0)
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
values = st.lists(
    st.one_of(st.floats(min_value=-1, max_value=100, allow_nan=False), st.sampled_from(BOUNDS)),
    max_size=40,
)


def exposition(registry: CollectorRegistry) -> list[str]:
    return [line for line in generate_latest(registry).decode().splitlines()
            if "_created" not in line]


def collected(aggregates: Aggregates, shared: SharedDirectory | None = None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(AggregateCollector(aggregates, shared))
    return registry


@given(values)
def test_a_histogram_renders_exactly_what_prometheus_client_would(observed: list[float]) -> None:
    plain_registry = CollectorRegistry()
    plain = Histogram("h", "h", ["route"], buckets=BOUNDS, registry=plain_registry)
    aggregates = Aggregates()
    series = aggregates.histogram("h", "h", ["route"], BOUNDS).labels("/pay")
    child = plain.labels("/pay")
    for value in observed:
        child.observe(value)
        series.observe(value)
    assert exposition(collected(aggregates)) == exposition(plain_registry)


def test_a_counter_renders_exactly_what_prometheus_client_would() -> None:
    plain_registry = CollectorRegistry()
    plain = Counter("c", "c", ["status"], registry=plain_registry)
    aggregates = Aggregates()
    family = aggregates.counter("c", "c", ["status"])
    for status, amount in (("ok", 1.0), ("failed", 2.5), ("ok", 1.0)):
        plain.labels(status).inc(amount)
        family.labels(status).inc(amount)
    assert exposition(collected(aggregates)) == exposition(plain_registry)


def test_large_bounds_are_written_as_prometheus_client_writes_them() -> None:
    aggregates = Aggregates()
    aggregates.histogram("h", "h", [], (1_048_576,)).labels().observe(5)
    registry = collected(aggregates)
    assert registry.get_sample_value("h_bucket", {"le": "1.048576e+06"}) == 1


def test_a_value_on_a_bucket_bound_counts_in_that_bucket() -> None:
    aggregates = Aggregates()
    aggregates.histogram("h", "h", [], BOUNDS).labels().observe(0.01)
    registry = collected(aggregates)
    assert registry.get_sample_value("h_bucket", {"le": "0.005"}) == 0
    assert registry.get_sample_value("h_bucket", {"le": "0.01"}) == 1


def test_nan_adds_to_the_sum_and_to_no_bucket_as_prometheus_client_does() -> None:
    aggregates = Aggregates()
    aggregates.histogram("h", "h", [], BOUNDS).labels().observe(math.nan)
    registry = collected(aggregates)
    assert math.isnan(registry.get_sample_value("h_sum") or 0.0)
    assert registry.get_sample_value("h_count") == 0


def test_a_sampled_observation_is_its_bucket_s_exemplar_in_openmetrics_only() -> None:
    aggregates = Aggregates()
    series = aggregates.histogram("h_seconds", "h", ["route"], BOUNDS).labels("/pay")
    series.observe(0.03, TRACE)
    series.observe(0.04)  # not sampled: the bucket keeps the sampled one's exemplar
    series.observe(0.5)
    registry = collected(aggregates)
    [family] = text_string_to_metric_families(openmetrics_latest(registry).decode())
    exemplars = {s.labels["le"]: s.exemplar for s in family.samples
                 if s.name == "h_seconds_bucket" and s.exemplar is not None}
    assert list(exemplars) == ["0.05"]
    assert exemplars["0.05"].labels == {"trace_id": TRACE}
    assert exemplars["0.05"].value == 0.03
    assert "trace_id" not in generate_latest(registry).decode()


def test_the_newest_sampled_observation_replaces_its_bucket_s_exemplar() -> None:
    aggregates = Aggregates()
    series = aggregates.histogram("h", "h", [], BOUNDS).labels()
    series.observe(0.03, "a" * 32)
    series.observe(0.02, "b" * 32)
    [exemplar] = [e for e in series.exemplars if e is not None]
    assert exemplar[:2] == ("b" * 32, 0.02)


def test_concurrent_recording_and_reading_lose_nothing() -> None:
    aggregates = Aggregates()
    counter = aggregates.counter("c", "c", []).labels()
    histogram = aggregates.histogram("h", "h", [], BOUNDS).labels()
    registry = collected(aggregates)
    done = threading.Event()

    def read_until_done() -> None:
        while not done.is_set():
            registry.get_sample_value("c_total")

    reader = threading.Thread(target=read_until_done)
    reader.start()
    for _ in range(20_000):
        with aggregates.lock:
            counter.inc()
            histogram.observe(0.02)
    done.set()
    reader.join()
    assert registry.get_sample_value("c_total") == 20_000
    assert registry.get_sample_value("h_count") == 20_000


def worker(directory: Path, pid: int) -> tuple[Aggregates, SharedDirectory]:
    aggregates = Aggregates()
    aggregates.counter("c", "c", ["status"])
    aggregates.histogram("h", "h", [], BOUNDS)
    aggregates.gauge("g", "g")
    return aggregates, SharedDirectory(str(directory), pid)


def test_workers_files_add_up_with_the_newest_exemplar_of_any_worker(tmp_path: Path) -> None:
    (first, first_dir), (second, second_dir) = worker(tmp_path, 1), worker(tmp_path, 2)
    first.counters[0].labels("ok").inc(2)
    second.counters[0].labels("ok").inc(3)
    second.counters[0].labels("failed").inc()
    first.histograms[0].labels().observe(0.03, "a" * 32)
    second.histograms[0].labels().observe(0.02, "b" * 32)  # later: this one is shown
    second.histograms[0].labels().observe(5.0)
    first_dir.write_totals(first)
    registry = collected(second, second_dir)  # a scrape answered by the second worker
    value = registry.get_sample_value
    assert (value("c_total", {"status": "ok"}), value("c_total", {"status": "failed"})) == (5, 1)
    assert (value("h_count"), value("h_bucket", {"le": "0.05"})) == (3, 2)
    [family] = [f for f in text_string_to_metric_families(openmetrics_latest(registry).decode())
                if f.name == "h"]
    assert [s.exemplar.labels["trace_id"] for s in family.samples if s.exemplar] == ["b" * 32]


def test_the_newest_live_gauge_of_a_running_worker_is_shown(tmp_path: Path) -> None:
    (first, first_dir), (second, second_dir) = worker(tmp_path, 1), worker(tmp_path, 2)
    first.gauges[0].value, first.gauges[0].updated = 7.0, 100.0
    second.gauges[0].value, second.gauges[0].updated = 3.0, 50.0
    first_dir.write_live(first.gauges[0])
    second_dir.write_live(second.gauges[0])
    assert collected(second, second_dir).get_sample_value("g") == 7.0
    first_dir.drop_live()  # the first worker exited
    assert collected(second, second_dir).get_sample_value("g") == 3.0


def test_a_restarted_pid_continues_its_file_s_totals(tmp_path: Path) -> None:
    before, shared = worker(tmp_path, 42)
    before.counters[0].labels("ok").inc(4)
    shared.write_totals(before)
    after, shared_again = worker(tmp_path, 42)
    earlier = shared_again.own_totals()
    assert earlier is not None
    after.add(earlier)
    after.counters[0].labels("ok").inc()
    assert collected(after, shared_again).get_sample_value("c_total", {"status": "ok"}) == 5


def test_a_file_it_cannot_read_is_left_out(tmp_path: Path) -> None:
    aggregates, shared = worker(tmp_path, 1)
    aggregates.counters[0].labels("ok").inc()
    (tmp_path / "paygate_totals_99.db").write_bytes(b"not msgpack of ours")
    assert collected(aggregates, shared).get_sample_value("c_total", {"status": "ok"}) == 1


def test_a_write_left_half_done_is_not_read(tmp_path: Path) -> None:
    aggregates, shared = worker(tmp_path, 9)
    aggregates.counters[0].labels("ok").inc()
    shared.write_totals(aggregates)
    shared.close()
    own = tmp_path / "paygate_totals_9.db"
    data = bytearray(own.read_bytes())
    data[0] |= 1  # the sequence odd: a writer died mid-write
    own.write_bytes(bytes(data))
    assert list(SharedDirectory(str(tmp_path), 10).all_totals()) == []


def test_a_worker_caught_mid_write_counts_what_was_last_read_from_it(tmp_path: Path) -> None:
    """A counter never goes back: a scrape that finds another worker's file mid-write
    (that worker descheduled between its two header writes) keeps its last totals."""
    (first, first_dir), (second, second_dir) = worker(tmp_path, 1), worker(tmp_path, 2)
    first.counters[0].labels("ok").inc(2)
    second.counters[0].labels("ok").inc(3)
    first_dir.write_totals(first)
    registry = collected(second, second_dir)
    assert registry.get_sample_value("c_total", {"status": "ok"}) == 5
    own = tmp_path / "paygate_totals_1.db"
    data = bytearray(own.read_bytes())
    data[0] |= 1  # the first worker is between its two header writes
    own.write_bytes(bytes(data))

    assert collected(second, second_dir).get_sample_value("c_total", {"status": "ok"}) == 5
