"""Pre-aggregated metrics: the payment path adds to plain numbers; a collector exposes them.

A prometheus_client metric update costs a lock, a Python call or two and, in multiprocess
mode, a write into a memory-mapped file: twelve of them per payment. Here the request path
adds to a float or to a bucket count under one lock per batch of updates, and
`AggregateCollector`, a custom collector on prometheus_client's public interface
(`Collector`, `CounterMetricFamily`, `HistogramMetricFamily`), builds the families from
those numbers whenever the registry is read. Nothing is ever written into a
prometheus_client object, so nothing depends on how it stores its values.

A histogram bucket keeps the last exemplar observed in it (the trace id of a sampled
request); the OpenMetrics exposition shows it, the classic text format does not.

Several worker processes (`PROMETHEUS_MULTIPROC_DIR`): prometheus_client's own
multiprocess mode has no custom collectors and no exemplars, so paygate shares its
numbers itself. Each worker writes its totals, exemplars included, to its own file in the
directory (`SharedDirectory`: msgpack written in place behind a sequence lock, so a
reader decodes one complete write or waits for it); a scrape, whichever worker answers it,
adds up every worker's file. A worker writes when it is idle (no request in flight),
every second under constant load, when it is scraped and as it exits. Totals of a worker
that exited stay, so they never go backwards; its live gauge leaves the merged view.
"""

from __future__ import annotations

import math
import os
import struct
import threading
import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import msgspec
from prometheus_client.core import (
    CounterMetricFamily,
    Exemplar,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

from observability.multiprocess import LIVE_PREFIX

Labels = tuple[str, ...]
ExemplarRecord = tuple[str, float, float]  # trace id, observed value, unix time
EXEMPLAR_LABEL: Final = "trace_id"
TOTALS_PREFIX: Final = "paygate_totals_"


class CounterSeries:
    """One label set of a counter. Callers hold the `Aggregates` lock."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class HistogramSeries:
    """One label set of a histogram: a count per bucket (not cumulative), the sum, and per
    bucket the last exemplar observed in it."""

    __slots__ = ("bounds", "counts", "exemplars", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds  # ends with +Inf
        self.counts = [0] * len(bounds)
        self.sum = 0.0
        self.exemplars: list[ExemplarRecord | None] = [None] * len(bounds)

    def observe(self, value: float, trace_id: str | None = None) -> None:
        self.sum += value
        if value == value:  # NaN reaches the sum and no bucket, as in prometheus_client
            # the first bound >= value: prometheus_client's `value <= bound` bucket
            index = bisect_left(self.bounds, value)
            self.counts[index] += 1
            if trace_id is not None:
                self.exemplars[index] = (trace_id, value, time.time())


@dataclass(slots=True)
class CounterFamily:
    """A counter's series by label values. New series are made under the `Aggregates`
    lock, which readers hold while they copy."""

    name: str  # without `_total`
    documentation: str
    labelnames: Labels
    series: dict[Labels, CounterSeries] = field(default_factory=dict)

    def labels(self, *values: str) -> CounterSeries:
        found = self.series.get(values)
        if found is None:
            found = self.series.setdefault(values, CounterSeries())
        return found


@dataclass(slots=True)
class HistogramFamily:
    name: str
    documentation: str
    labelnames: Labels
    buckets: tuple[float, ...]
    series: dict[Labels, HistogramSeries] = field(default_factory=dict)
    bounds: tuple[float, ...] = ()
    le: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.bounds = (*sorted(float(b) for b in self.buckets), math.inf)
        self.le = tuple(floatToGoString(bound) for bound in self.bounds)  # type: ignore[no-untyped-call]

    def labels(self, *values: str) -> HistogramSeries:
        found = self.series.get(values)
        if found is None:
            found = self.series.setdefault(values, HistogramSeries(self.bounds))
        return found


@dataclass(slots=True)
class GaugeFamily:
    """A gauge without labels: the last value set (in several workers, the most recent
    value of a worker still alive, as prometheus_client's `livemostrecent`)."""

    name: str
    documentation: str
    value: float = 0.0
    updated: float = 0.0  # unix time of the last set; 0: never set


# -- snapshots: what one process holds, as plain data ---------------------------------
CounterRows = dict[str, dict[Labels, float]]
HistogramRow = tuple[list[int], float, list[ExemplarRecord | None]]
HistogramRows = dict[str, dict[Labels, HistogramRow]]


class Totals(msgspec.Struct, array_like=True):
    """A process's counters and histograms, as written to its file."""

    counters: dict[str, list[tuple[Labels, float]]]
    histograms: dict[str, list[tuple[Labels, list[int], float, list[ExemplarRecord | None]]]]


class Live(msgspec.Struct, array_like=True):
    value: float
    updated: float


class Aggregates:
    """Every family of one `Metrics`, and the lock that guards all their numbers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counters: list[CounterFamily] = []
        self.histograms: list[HistogramFamily] = []
        self.gauges: list[GaugeFamily] = []

    def counter(self, name: str, documentation: str, labelnames: Sequence[str]) -> CounterFamily:
        family = CounterFamily(name, documentation, tuple(labelnames))
        self.counters.append(family)
        return family

    def histogram(
        self, name: str, documentation: str, labelnames: Sequence[str], buckets: Sequence[float]
    ) -> HistogramFamily:
        family = HistogramFamily(name, documentation, tuple(labelnames), tuple(buckets))
        self.histograms.append(family)
        return family

    def gauge(self, name: str, documentation: str) -> GaugeFamily:
        family = GaugeFamily(name, documentation)
        self.gauges.append(family)
        return family

    def rows(self) -> tuple[CounterRows, HistogramRows]:
        """A copy of every number, taken under the lock."""
        with self.lock:
            counters = {f.name: {labels: s.value for labels, s in f.series.items()}
                        for f in self.counters}
            histograms = {
                f.name: {labels: (list(s.counts), s.sum, list(s.exemplars))
                         for labels, s in f.series.items()}
                for f in self.histograms}
        return counters, histograms

    def encoded(self, encoder: msgspec.msgpack.Encoder) -> bytes:
        """Every number as `Totals` in msgpack, encoded under the lock: msgspec encodes
        without releasing the GIL, so the lists need no copy."""
        with self.lock:
            return encoder.encode(Totals(
                counters={f.name: [(labels, s.value) for labels, s in f.series.items()]
                          for f in self.counters},
                histograms={f.name: [(labels, s.counts, s.sum, s.exemplars)
                                     for labels, s in f.series.items()]
                            for f in self.histograms},
            ))

    def add(self, totals: Totals) -> None:
        """Add `totals` (a file of an earlier process with this pid) to these numbers."""
        by_name = {f.name: f for f in self.counters}
        hist_by_name = {f.name: f for f in self.histograms}
        with self.lock:
            for name, counter_rows in totals.counters.items():
                if name in by_name:
                    for labels, value in counter_rows:
                        by_name[name].labels(*labels).inc(value)
            for name, histogram_rows in totals.histograms.items():
                family = hist_by_name.get(name)
                if family is None:
                    continue
                for labels, counts, total, exemplars in histogram_rows:
                    series = family.labels(*labels)
                    if len(counts) != len(series.counts):
                        continue  # written with other buckets: not comparable
                    series.sum += total
                    for index, count in enumerate(counts):
                        series.counts[index] += count
                    series.exemplars = [
                        newest(mine, theirs)
                        for mine, theirs in zip(series.exemplars, exemplars, strict=True)]


def newest(first: ExemplarRecord | None, second: ExemplarRecord | None) -> ExemplarRecord | None:
    if first is None:
        return second
    if second is None:
        return first
    return first if first[2] >= second[2] else second


def merge(all_totals: Iterable[Totals]) -> tuple[CounterRows, HistogramRows]:
    """Every process's numbers added up, label set by label set; per bucket, the newest
    exemplar of any process."""
    counters: CounterRows = {}
    histograms: HistogramRows = {}
    for totals in all_totals:
        for name, counter_rows in totals.counters.items():
            merged = counters.setdefault(name, {})
            for labels, value in counter_rows:
                key = tuple(labels)
                merged[key] = merged.get(key, 0.0) + value
        for name, histogram_rows in totals.histograms.items():
            merged_h = histograms.setdefault(name, {})
            for labels, counts, total, exemplars in histogram_rows:
                key = tuple(labels)
                known = merged_h.get(key)
                if known is None:
                    merged_h[key] = (list(counts), total, list(exemplars))
                elif len(known[0]) == len(counts):
                    merged_h[key] = (
                        [a + b for a, b in zip(known[0], counts, strict=True)],
                        known[1] + total,
                        [newest(a, b) for a, b in zip(known[2], exemplars, strict=True)])
    return counters, histograms


class SharedDirectory:
    """The files of every worker in a multiprocess directory, and this process's own.

    A worker's totals file is written in place, through a descriptor it keeps open: a
    header (a sequence number, odd while a write is under way, and the length) and the
    msgpack of its `Totals`. A reader takes the bytes only if the header was even and the
    same before and after it read them (a sequence lock), so it never decodes half of
    one write, and a write costs two small `pwrite`s and one of the data: no new file,
    no rename."""

    def __init__(self, directory: str, pid: int | None = None) -> None:
        self.path = Path(directory)
        self.pid = os.getpid() if pid is None else pid
        self._write_lock = threading.Lock()
        self._encoder = msgspec.msgpack.Encoder()
        self._totals_decoder = msgspec.msgpack.Decoder(Totals)
        self._live_decoder = msgspec.msgpack.Decoder(Live)
        self._own = self.path / f"{TOTALS_PREFIX}{self.pid}.db"
        self._fd: int | None = None
        self._sequence = 0
        # each worker's totals as last read whole: a file caught mid-write (its writer
        # descheduled between its header writes) counts these, so a counter never goes back
        self._last_read: dict[Path, Totals] = {}

    def own_totals(self) -> Totals | None:
        """What an earlier process with this pid left (pids are reused), if anything."""
        data = read_consistent(self._own)
        return None if data is None else self._decode_totals(data)

    def write_totals(self, aggregates: Aggregates) -> None:
        """This process's numbers, to its file: taken and written under one lock, so two
        threads writing at once cannot leave the older numbers last."""
        with self._write_lock:
            data = aggregates.encoded(self._encoder)
            if self._fd is None:
                self._fd = os.open(self._own, os.O_RDWR | os.O_CREAT, 0o644)
                header = os.pread(self._fd, HEADER.size, 0)
                if len(header) == HEADER.size:  # a file of this pid's: move on from it
                    self._sequence = HEADER.unpack(header)[0] + 1 & ~1
            self._sequence += 1
            os.pwrite(self._fd, HEADER.pack(self._sequence, len(data)), 0)
            os.pwrite(self._fd, data, HEADER.size)
            self._sequence += 1
            os.pwrite(self._fd, HEADER.pack(self._sequence, len(data)), 0)

    def close(self) -> None:
        with self._write_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def write_live(self, gauge: GaugeFamily) -> None:
        with self._write_lock:
            data = self._encoder.encode(Live(gauge.value, gauge.updated))
            self._replace(f"{LIVE_PREFIX}{self.pid}.db", data)

    def drop_live(self) -> None:
        (self.path / f"{LIVE_PREFIX}{self.pid}.db").unlink(missing_ok=True)

    def all_totals(self) -> Iterator[Totals]:
        for file in sorted(self.path.glob(f"{TOTALS_PREFIX}*.db")):
            data = read_consistent(file)
            totals = None if data is None else self._decode_totals(data)
            if totals is None:
                totals = self._last_read.get(file)
            else:
                self._last_read[file] = totals
            if totals is not None:
                yield totals

    def newest_live(self) -> Live | None:
        newest_one: Live | None = None
        for file in self.path.glob(f"{LIVE_PREFIX}*.db"):
            data = _read(file)
            try:
                live = None if data is None else self._live_decoder.decode(data)
            except msgspec.DecodeError:
                live = None
            if live is not None and (newest_one is None or live.updated > newest_one.updated):
                newest_one = live
        return newest_one

    def _decode_totals(self, data: bytes) -> Totals | None:
        try:
            return self._totals_decoder.decode(data)
        except msgspec.DecodeError:  # written by another version of paygate
            return None

    def _replace(self, name: str, data: bytes) -> None:
        temporary = self.path / f".{name}.{threading.get_ident()}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, self.path / name)


HEADER: Final = struct.Struct("<QQ")  # sequence (odd: being written), length
READ_ATTEMPTS: Final = 50


def read_consistent(file: Path) -> bytes | None:
    """The data of a totals file as one complete write left it; None when there is no
    file, or none could be read whole (a file of another format)."""
    for _ in range(READ_ATTEMPTS):
        try:
            with file.open("rb") as opened:
                raw = opened.read()
                opened.seek(0)
                again = opened.read(HEADER.size)
        except FileNotFoundError:
            return None
        if len(raw) < HEADER.size:
            return None
        sequence, length = HEADER.unpack_from(raw)
        if sequence % 2 == 0 and again == raw[:HEADER.size] \
                and len(raw) >= HEADER.size + length:
            return raw[HEADER.size:HEADER.size + length]
        time.sleep(0.0001)  # a write is under way: it takes microseconds
    return None


def _read(file: Path) -> bytes | None:
    try:
        return file.read_bytes()
    except FileNotFoundError:  # a worker's live file, dropped as it exited
        return None


class AggregateCollector:
    """A prometheus_client collector (`registry.register(...)`) of `Aggregates`: from this
    process's numbers, or, given a `SharedDirectory`, from every worker's."""

    def __init__(self, aggregates: Aggregates, shared: SharedDirectory | None = None) -> None:
        self._aggregates, self._shared = aggregates, shared

    def describe(self) -> Iterable[Metric]:
        """The families' names, for the registry's duplicate check (no numbers read)."""
        a = self._aggregates
        yield from (CounterMetricFamily(f.name, f.documentation, labels=f.labelnames)
                    for f in a.counters)
        yield from (HistogramMetricFamily(f.name, f.documentation, labels=f.labelnames)
                    for f in a.histograms)
        yield from (GaugeMetricFamily(f.name, f.documentation) for f in a.gauges)

    def collect(self) -> Iterable[Metric]:
        a = self._aggregates
        if self._shared is None:
            counters, histograms = a.rows()
            live: list[float] = [g.value for g in a.gauges]
        else:
            self._shared.write_totals(a)
            counters, histograms = merge(self._shared.all_totals())
            newest_live = self._shared.newest_live()
            live = [newest_live.value if newest_live is not None else 0.0 for _ in a.gauges]
        for family in a.counters:
            metric = CounterMetricFamily(family.name, family.documentation,
                                         labels=family.labelnames)
            for labels, value in counters.get(family.name, {}).items():
                metric.add_metric(labels, value)
            yield metric
        for hfamily in a.histograms:
            hmetric = HistogramMetricFamily(hfamily.name, hfamily.documentation,
                                            labels=hfamily.labelnames)
            for labels, (counts, total, exemplars) in histograms.get(hfamily.name, {}).items():
                if len(counts) == len(hfamily.le):
                    hmetric.add_metric(labels, cumulative(hfamily.le, counts, exemplars), total)
            yield hmetric
        for gauge, value in zip(a.gauges, live, strict=True):
            yield GaugeMetricFamily(gauge.name, gauge.documentation, value=value)


def cumulative(
    le: Sequence[str], counts: Sequence[int], exemplars: Sequence[ExemplarRecord | None]
) -> list[tuple[str, float] | tuple[str, float, Exemplar]]:
    """Per-bucket counts as the cumulative `le` buckets of the exposition, with exemplars."""
    buckets: list[tuple[str, float] | tuple[str, float, Exemplar]] = []
    running = 0
    for bound, count, exemplar in zip(le, counts, exemplars, strict=True):
        running += count
        if exemplar is None:
            buckets.append((bound, running))
        else:
            trace_id, value, at = exemplar
            buckets.append((bound, running, Exemplar({EXEMPLAR_LABEL: trace_id}, value, at)))
    return buckets
