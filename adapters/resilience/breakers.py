"""One circuit breaker per remote dependency, with a state a readiness probe can read.

A breaker is closed until `failure_threshold` consecutive calls fail, then open: calls
fail fast (`CircuitOpen`, nothing sent) until `recovery_timeout` seconds have passed.
After that it is half-open: calls go through as trials, the first success closes it and
a failure opens it again for another `recovery_timeout`. A success while closed resets
the count. The breakers live in process memory on purpose: each worker judges the
dependency from its own calls, and a restart starts closed.

`states()` reports an open breaker whose recovery timeout has passed as "half-open": the
next call will be let through as a trial. Without this, a readiness probe that fails
while a breaker is open would keep traffic away forever, and no trial call would ever
close it again.

These few rules are paygate's own code (docs/adr/0015): the library that kept them
before exposed its breaker states only through its internal model.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from adapters.resilience.errors import CircuitOpen

BreakerState = Literal["closed", "open", "half-open"]


@dataclass(slots=True)
class _Breaker:
    failures: int = 0  # consecutive, while closed
    opened_at: float | None = None  # None: closed


class Breakers:
    """The breakers of one process, keyed by dependency name ("risk", "channel:stripe")."""

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        recovery_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._threshold, self._timeout, self._clock = failure_threshold, recovery_timeout, clock
        self._breakers: dict[str, _Breaker] = {}

    def register(self, name: str) -> None:
        """Make a dependency visible in `states()` before its first call."""
        self._breakers.setdefault(name, _Breaker())

    @asynccontextmanager
    async def guard(self, name: str) -> AsyncIterator[None]:
        """Run the block under `name`'s breaker; any exception inside counts as a failure,
        except a cancellation, which says nothing about the dependency."""
        breaker = self._breakers.setdefault(name, _Breaker())
        if self._state(breaker) == "open":
            raise CircuitOpen(name)
        try:
            yield
        except asyncio.CancelledError:
            raise
        except BaseException:
            self._failed(breaker)
            raise
        breaker.failures, breaker.opened_at = 0, None

    def _failed(self, breaker: _Breaker) -> None:
        if breaker.opened_at is not None:  # a trial call failed: open for another period
            breaker.opened_at = self._clock()
            return
        breaker.failures += 1
        if breaker.failures >= self._threshold:
            breaker.opened_at = self._clock()

    def _state(self, breaker: _Breaker) -> BreakerState:
        if breaker.opened_at is None:
            return "closed"
        return "half-open" if self._clock() > breaker.opened_at + self._timeout else "open"

    def state(self, name: str) -> BreakerState:
        breaker = self._breakers.get(name)
        return "closed" if breaker is None else self._state(breaker)

    def states(self) -> dict[str, BreakerState]:
        """name -> "closed" | "open" | "half-open", for /health/ready and dashboards."""
        return {name: self.state(name) for name in sorted(self._breakers)}

    def any_open(self) -> bool:
        return any(state == "open" for state in self.states().values())
