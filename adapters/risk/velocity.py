"""Velocity counters: how many payments a card, a customer or an IP made lately.

The engine only needs `VelocityCounter`; the in-memory sliding window serves one process
(tests, the sandbox, a single risk service). A shared store (the database) can implement
the same protocol when several processes must see one count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class VelocityCounter(Protocol):
    async def hit(self, key: str, event_id: str, now: float, window: float) -> int:
        """Record `event_id` under `key` and count the distinct events of the last `window`
        seconds, this one included.

        Idempotent per `event_id`: assessing the same payment again (a retried request)
        does not count it twice, which is what makes a remote assessment safe to retry.
        """
        ...


@dataclass(slots=True)
class _Series:
    window: float
    events: dict[str, float] = field(default_factory=dict)  # event_id -> time, oldest first

    def prune(self, now: float) -> None:
        horizon = now - self.window
        while self.events:
            oldest, at = next(iter(self.events.items()))
            if at > horizon:
                return
            del self.events[oldest]


class InMemoryVelocityCounter:
    """Sliding windows in a dict. Bounded: a key keeps at most `max_events` events (so a
    count saturates there) and idle keys are swept every `sweep_every` hits."""

    def __init__(self, *, max_events: int = 10_000, sweep_every: int = 4_096) -> None:
        self._series: dict[str, _Series] = {}
        self._max_events = max_events
        self._sweep_every = sweep_every
        self._hits = 0

    async def hit(self, key: str, event_id: str, now: float, window: float) -> int:
        series = self._series.setdefault(key, _Series(window))
        series.window = window
        series.prune(now)
        if event_id not in series.events:
            series.events[event_id] = now
            if len(series.events) > self._max_events:
                del series.events[next(iter(series.events))]
        self._hits += 1
        if self._hits % self._sweep_every == 0:
            self._sweep(now)
        return len(series.events)

    def _sweep(self, now: float) -> None:
        for key, series in list(self._series.items()):
            series.prune(now)
            if not series.events:
                del self._series[key]

    def __len__(self) -> int:
        """How many keys are tracked; lets tests see that idle keys are dropped."""
        return len(self._series)
