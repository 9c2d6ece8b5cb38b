"""Closing a PostgreSQL connection whose command has had no answer for too long.

The server's `statement_timeout` ends a statement that runs or waits too long, but only a
server that answers can send that. When the host dies or the network path is dropped,
nothing closes the socket and asyncpg would wait for TCP to notice (about two hours).
asyncpg can bound every command itself (`command_timeout`), but it arms and cancels a
timer for each one: ~3 µs of CPU per command, +80 k instructions (+3.7 %) per payment
(docs/benchmarks.md). Here a command only writes down when it was sent and rubs it out
when answered (two dictionary operations), and one timer per event loop, running while
the loop has connections to watch, looks every `SCAN_PERIOD` seconds for commands whose
limit has passed and terminates their connections: the pending command then fails as a
lost connection (`Unavailable`), and the pool drops the connection instead of reusing it.

A connection is watched only once `limit(conn, seconds)` gave it a limit (the engine does,
for each connection it opens, when a statement timeout is configured).
"""

from __future__ import annotations

import asyncio
import logging
from time import monotonic
from typing import Any
from weakref import WeakKeyDictionary

SCAN_PERIOD = 0.25  # seconds: a connection is closed at most this long after its limit
_log = logging.getLogger(__name__)
_limits: WeakKeyDictionary[Any, float] = WeakKeyDictionary()
_armed: dict[asyncio.AbstractEventLoop, asyncio.TimerHandle] = {}

SENT: dict[Any, float] = {}
"""Connection -> when its pending command was sent (`time.monotonic()`). The driver writes
it before each command and removes it once answered, inline: a function call each way
would cost more than the rest of the watch (measured, docs/benchmarks.md)."""


def limit(conn: Any, seconds: float) -> None:
    """Watch `conn`, opened on the running loop: a command it sends may wait `seconds` for
    its answer. The loop scans while any watched connection of the process lives."""
    _limits[conn] = seconds
    loop = asyncio.get_running_loop()
    if loop not in _armed:
        _arm(loop)


def sent(conn: Any) -> None:
    """`conn` sent a command (then `answered` in a `finally`); what the driver does inline."""
    SENT[conn] = monotonic()


def answered(conn: Any) -> None:
    SENT.pop(conn, None)


def pending() -> int:
    """How many connections are waiting for an answer right now."""
    return len(SENT)


def _arm(loop: asyncio.AbstractEventLoop) -> None:
    _armed[loop] = loop.call_later(SCAN_PERIOD, _scan, loop)


def _scan(loop: asyncio.AbstractEventLoop) -> None:
    _armed.pop(loop, None)
    now = monotonic()
    for conn, since in list(SENT.items()):
        seconds = _limits.get(conn)
        if seconds is not None and now - since >= seconds:
            SENT.pop(conn, None)
            _log.warning("no answer from PostgreSQL for %.1f s: closing the connection", seconds)
            try:
                conn.terminate()
            except Exception:  # a connection of a loop already closed: nothing to close
                _log.debug("terminating an unanswered connection failed", exc_info=True)
    if (_limits or SENT) and not loop.is_closed():
        _arm(loop)
