"""Buffered metric recording: the payment path adds to plain numbers; readers see them all.

A prometheus_client update costs a lock, a Python call or two and, in multiprocess mode,
a write into a memory-mapped file: twelve of them per payment. Here the request path only
adds to a float or to a bucket count, under one lock per batch of updates, and `flush`
hands the totals to the prometheus_client children. `flush` runs before every read (the
`FlushOnCollect` collector is the registry's first) and, in multiprocess mode, every
second on a `PeriodicFlush` thread, so that the other workers' scrapes see this one's.

The histogram buffer adds to the child's `_sum` and `_buckets` values, which
prometheus_client has no public call for; a child without them is written through.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any, Protocol, TypeVar

from prometheus_client import Counter, Histogram
from prometheus_client.metrics_core import Metric

B = TypeVar("B", "BufferedCounter", "BufferedHistogram")


class Observer(Protocol):
    def observe(self, value: float) -> None: ...


class BufferedCounter:
    """A counter child's pending increments. Callers hold `Buffers.lock`."""

    __slots__ = ("_child", "_pending")

    def __init__(self, child: Counter) -> None:
        self._child = child
        self._pending = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self._pending += amount

    def flush(self) -> None:
        if self._pending:
            self._child.inc(self._pending)
            self._pending = 0.0


class BufferedHistogram:
    """A histogram child's pending observations, as bucket counts and a sum."""

    __slots__ = ("_bounds", "_child", "_counts", "_observed", "_sum")

    def __init__(self, child: Histogram) -> None:
        self._child = child
        self._bounds: tuple[float, ...] = tuple(child._upper_bounds)
        self._counts = [0] * len(self._bounds)
        self._sum = 0.0
        self._observed = False

    @staticmethod
    def supports(child: object) -> bool:
        return all(hasattr(child, name) for name in ("_upper_bounds", "_buckets", "_sum"))

    def observe(self, value: float) -> None:
        self._sum += value
        self._observed = True
        if value == value:  # NaN reaches the sum and no bucket, as in prometheus_client
            # the first bound >= value: prometheus_client's `value <= bound` bucket
            self._counts[bisect_left(self._bounds, value)] += 1

    def flush(self) -> None:
        if not self._observed:
            return
        child: Any = self._child
        child._sum.inc(self._sum)
        for index, count in enumerate(self._counts):
            if count:
                child._buckets[index].inc(count)
                self._counts[index] = 0
        self._sum, self._observed = 0.0, False


class Buffers:
    """Every buffer of one `Metrics`, and the lock that guards them all."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._all: list[BufferedCounter | BufferedHistogram] = []

    def counter(self, child: Counter) -> BufferedCounter:
        return self._keep(BufferedCounter(child))

    def histogram(self, child: Histogram) -> BufferedHistogram | Histogram:
        """A buffer, or the child itself (written through) when it lacks the internals."""
        if BufferedHistogram.supports(child):
            return self._keep(BufferedHistogram(child))
        return child

    def _keep(self, buffer: B) -> B:
        with self.lock:
            self._all.append(buffer)
        return buffer

    def flush(self) -> None:
        with self.lock:
            for buffer in self._all:
                buffer.flush()


class FlushOnCollect:
    """Registered first in a registry: every collect (scrape, test read) flushes first."""

    def __init__(self, buffers: Buffers) -> None:
        self._buffers = buffers

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterable[Metric]:
        self._buffers.flush()
        return ()


class PeriodicFlush:
    """A daemon thread that flushes every `interval` seconds until `stop`."""

    def __init__(self, buffers: Buffers, interval: float) -> None:
        self._buffers, self._interval = buffers, interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="paygate-metrics-flush", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            self._buffers.flush()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
        self._buffers.flush()
