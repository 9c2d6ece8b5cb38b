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


class FifoGate:
    """`slots` turns per event loop, handed out first come, first served; waiting longer
    than `timeout` seconds is `Unavailable`, with `message` (formatted with `timeout`)."""

    def __init__(self, slots: int, timeout: float, message: str) -> None:
        self._slots, self._timeout = slots, timeout
        self._message = message.format(timeout=timeout)
        self._turns: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            WeakKeyDictionary()
        )
        self._last_loop: asyncio.AbstractEventLoop | None = None
        self._last_turns = asyncio.Semaphore(slots)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop is self._last_loop:  # nearly always: one loop per process
            return self._last_turns
        turns = self._turns.get(loop)
        if turns is None:
            turns = self._turns[loop] = asyncio.Semaphore(self._slots)
        self._last_loop, self._last_turns = loop, turns
        return turns

    async def __aenter__(self) -> None:
        turns = self._semaphore()
        if not turns.locked():  # a turn is free and nobody queues: no timer to arm
            await turns.acquire()
            return
        try:
            async with asyncio.timeout(self._timeout):
                await turns.acquire()
        except TimeoutError:
            raise Unavailable(self._message) from None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._semaphore().release()


class WriteGate(FifoGate):
    """One writer at a time per process, in order of arrival."""

    def __init__(self, timeout: float) -> None:
        message = "the database stayed locked by other writers for {timeout:g} s"
        super().__init__(1, timeout, message)


_GATES: WeakKeyDictionary[Dialect, WriteGate] = WeakKeyDictionary()


def install_gate(engine: AsyncEngine, timeout: float) -> None:
    """Give `engine` (and every view of it made with `execution_options`) a gate."""
    _GATES[engine.dialect] = WriteGate(timeout)


def gate_of(engine: AsyncEngine) -> WriteGate | None:
    """The engine's gate; None where writers need none (PostgreSQL locks rows)."""
    return _GATES.get(engine.dialect)


class ConnectionGate(FifoGate):
    """FIFO turns for the engine's pooled connections, per event loop.

    SQLAlchemy's async pool gives a returned connection to whoever asks next, so a task
    that closes a unit of work and at once opens another takes the connection back before
    a waiter wakes; under steady load a few waiters starve until `pool_timeout` and fail.
    Queueing here first, for as many turns as the pool has connections, serves them in
    order (tests/integration/persistence/test_db_connection_gate.py).
    """

    def __init__(self, slots: int, timeout: float) -> None:
        super().__init__(slots, timeout, "no database connection came free within {timeout:g} s")


_TURNS: WeakKeyDictionary[Dialect, ConnectionGate] = WeakKeyDictionary()


def install_connection_gate(engine: AsyncEngine, slots: int, timeout: float) -> None:
    """Queue `engine`'s users (and its `execution_options` views') for its `slots`."""
    _TURNS[engine.dialect] = ConnectionGate(slots, timeout)


def connection_gate_of(engine: AsyncEngine) -> ConnectionGate | None:
    """None for pools that never make anybody wait (NullPool, StaticPool)."""
    return _TURNS.get(engine.dialect)
