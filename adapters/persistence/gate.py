"""`WriteGate`: this process's SQLite writers queue here, in order, instead of polling.

SQLite admits one writer at a time. A writer that finds the lock taken sleeps in
SQLite's busy handler for up to 100 ms between tries, so under contention the lock sits
idle while waiters sleep, and the unlucky ones time out. Measured with 50 concurrent
write units in one process: 277 commits/s and a p99 of 1.7 s ungated, 616 commits/s
and a p99 of 180 ms gated (docs/adr/0005). Writers in other processes still meet at
the database's own lock, where the busy timeout makes them wait.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from application.errors import Unavailable

_GATES: WeakKeyDictionary[Dialect, WriteGate] = WeakKeyDictionary()


class WriteGate:
    """A FIFO lock per event loop; waiting longer than `timeout` seconds is `Unavailable`."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            WeakKeyDictionary()
        )

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def __aenter__(self) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._lock().acquire()
        except TimeoutError:
            raise Unavailable(
                f"the database stayed locked by other writers for {self._timeout:g} s"
            ) from None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lock().release()


def install_gate(engine: AsyncEngine, timeout: float) -> None:
    """Give `engine` (and every view of it made with `execution_options`) a gate."""
    _GATES[engine.dialect] = WriteGate(timeout)


def gate_of(engine: AsyncEngine) -> WriteGate | None:
    """The engine's gate; None where writers need none (PostgreSQL locks rows)."""
    return _GATES.get(engine.dialect)
