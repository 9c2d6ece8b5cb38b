"""Buffered recording: the hot path adds to plain numbers, readers always see every one."""

from __future__ import annotations

import math
import threading

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from observability.metric_buffers import BufferedCounter, BufferedHistogram, Buffers

BOUNDS = (0.005, 0.01, 0.05, 1.0, 10.0)
values = st.lists(
    st.one_of(st.floats(min_value=-1, max_value=100, allow_nan=False), st.sampled_from(BOUNDS)),
    max_size=40,
)


def pair() -> tuple[CollectorRegistry, Histogram, CollectorRegistry, Histogram]:
    plain_registry, buffered_registry = CollectorRegistry(), CollectorRegistry()
    plain = Histogram("h", "h", buckets=BOUNDS, registry=plain_registry)
    buffered = Histogram("h", "h", buckets=BOUNDS, registry=buffered_registry)
    return plain_registry, plain, buffered_registry, buffered


def exposition(registry: CollectorRegistry) -> list[str]:
    return [line for line in generate_latest(registry).decode().splitlines()
            if "_created" not in line]


@given(values)
def test_a_buffered_histogram_renders_exactly_what_prometheus_client_would(
    observed: list[float],
) -> None:
    plain_registry, plain, buffered_registry, child = pair()
    buffers = Buffers()
    histogram = buffers.histogram(child)
    for value in observed:
        plain.observe(value)
        histogram.observe(value)
    buffers.flush()
    assert exposition(buffered_registry) == exposition(plain_registry)


def test_a_value_on_a_bucket_bound_counts_in_that_bucket() -> None:
    registry = CollectorRegistry()
    child = Histogram("h", "h", buckets=BOUNDS, registry=registry)
    buffers = Buffers()
    buffers.histogram(child).observe(0.01)
    buffers.flush()
    assert registry.get_sample_value("h_bucket", {"le": "0.005"}) == 0
    assert registry.get_sample_value("h_bucket", {"le": "0.01"}) == 1


def test_nan_adds_to_the_sum_and_to_no_bucket_as_prometheus_client_does() -> None:
    registry = CollectorRegistry()
    child = Histogram("h", "h", buckets=BOUNDS, registry=registry)
    buffers = Buffers()
    buffers.histogram(child).observe(math.nan)
    buffers.flush()
    assert math.isnan(registry.get_sample_value("h_sum") or 0.0)
    assert registry.get_sample_value("h_count") == 0


def test_flushing_twice_adds_nothing_the_second_time() -> None:
    registry = CollectorRegistry()
    counter = Counter("c", "c", registry=registry)
    buffers = Buffers()
    buffered = buffers.counter(counter)
    buffered.inc()
    buffered.inc(2)
    buffers.flush()
    buffers.flush()
    assert registry.get_sample_value("c_total") == 3


def test_nothing_reaches_the_child_before_a_flush() -> None:
    registry = CollectorRegistry()
    counter = Counter("c", "c", registry=registry)
    buffers = Buffers()
    buffers.counter(counter).inc()
    assert registry.get_sample_value("c_total") == 0
    buffers.flush()
    assert registry.get_sample_value("c_total") == 1


def test_a_histogram_without_the_expected_internals_is_written_through() -> None:
    class Observed:
        def __init__(self) -> None:
            self.values: list[float] = []

        def observe(self, value: float) -> None:
            self.values.append(value)

    child = Observed()
    histogram = Buffers().histogram(child)  # type: ignore[arg-type]
    histogram.observe(2.5)
    assert child.values == [2.5]
    assert not isinstance(histogram, BufferedHistogram)


def test_concurrent_recording_and_flushing_lose_nothing() -> None:
    registry = CollectorRegistry()
    counter = Counter("c", "c", registry=registry)
    histogram = Histogram("h", "h", buckets=BOUNDS, registry=registry)
    buffers = Buffers()
    buffered_counter: BufferedCounter = buffers.counter(counter)
    buffered_histogram = buffers.histogram(histogram)
    done = threading.Event()

    def flush_until_done() -> None:
        while not done.is_set():
            buffers.flush()

    flusher = threading.Thread(target=flush_until_done)
    flusher.start()
    for _ in range(20_000):
        with buffers.lock:
            buffered_counter.inc()
            buffered_histogram.observe(0.02)
    done.set()
    flusher.join()
    buffers.flush()
    assert registry.get_sample_value("c_total") == 20_000
    assert registry.get_sample_value("h_count") == 20_000
