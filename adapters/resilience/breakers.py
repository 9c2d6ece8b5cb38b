"""One circuit breaker per remote dependency, with a state a readiness probe can read.

purgatory keeps the breakers (closed -> opened after `failure_threshold` consecutive
failures -> half-opened once `recovery_timeout` has passed -> closed on the first success
or opened again on a failure). The breakers live in process memory on purpose: each
worker judges the dependency from its own calls, and a restart starts closed.

`states()` reports an open breaker whose recovery timeout has passed as "half-open": the
next call will be let through as a trial. Without this, a readiness probe that fails
while a breaker is open would keep traffic away forever, and no trial call would ever
close it again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Literal

from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import Context, OpenedState

from adapters.resilience.errors import CircuitOpen

BreakerState = Literal["closed", "open", "half-open"]

_STATES: dict[str, BreakerState] = {
    "closed": "closed",
    "opened": "open",
    "half-opened": "half-open",
}


class Breakers:
    """The breakers of one process, keyed by dependency name ("risk", "channel:stripe")."""

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        recovery_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._factory = AsyncCircuitBreakerFactory(
            default_threshold=failure_threshold,
            default_ttl=recovery_timeout,
            exclude=[asyncio.CancelledError],
        )
        self._clock = clock
        self._names: set[str] = set()
        self._contexts: dict[str, Context] = {}

    def register(self, name: str) -> None:
        """Make a dependency visible in `states()` before its first call."""
        self._names.add(name)

    @asynccontextmanager
    async def guard(self, name: str) -> AsyncIterator[None]:
        """Run the block under `name`'s breaker; any exception inside counts as a failure."""
        self._names.add(name)
        breaker = await self._factory.get_breaker(name)
        self._contexts[name] = breaker.context
        try:
            async with breaker:
                yield
        except OpenedState as exc:
            raise CircuitOpen(name) from exc

    def state(self, name: str) -> BreakerState:
        context = self._contexts.get(name)
        if context is None:
            return "closed"
        state = _STATES[context.state]
        opened_at = context.opened_at
        if state == "open" and opened_at is not None and self._clock() > opened_at + context.ttl:
            return "half-open"
        return state

    def states(self) -> dict[str, BreakerState]:
        """name -> "closed" | "open" | "half-open", for /health/ready and dashboards."""
        return {name: self.state(name) for name in sorted(self._names)}

    def any_open(self) -> bool:
        return any(state == "open" for state in self.states().values())
