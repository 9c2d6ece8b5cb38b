"""Closing a PostgreSQL connection whose command has had no answer for too long.

The server's `statement_timeout` ends a statement that runs or waits too long, but only a
server that answers can send that. When the host dies or the network path is dropped,
nothing closes the socket and asyncpg would wait for TCP to notice (about two hours).
asyncpg can bound every command itself (`command_timeout`), but it arms and cancels a
timer for each one: +80 k instructions (+3.7 %) per payment (docs/benchmarks.md, row 21).

Here a command writes down the scan tick at which it was sent, and `IDLE` once answered,
in a slot of the connection itself (`WatchedConnection`, asyncpg's class with one slot
more, which the engine asks asyncpg for): two attribute stores, written inline by the
driver, with no call and no clock. A dictionary entry per connection instead cost ~1,150
instructions a command, more than ten times as much (docs/benchmarks.md, row 21). One
timer per event loop, running while there are connections to watch, advances the tick
every `SCAN_PERIOD` seconds and terminates the connections whose command has waited past
their limit: the command then fails as a lost connection (`Unavailable`), and the pool
drops the connection instead of reusing it. A closed connection is forgotten at the next
scan.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

import asyncpg

SCAN_PERIOD = 0.25  # seconds: a connection is closed at most this long after its limit
IDLE = -1
_log = logging.getLogger(__name__)
_watched: dict[WatchedConnection, int] = {}  # -> whole scan periods a command may wait
_armed: dict[asyncio.AbstractEventLoop, asyncio.TimerHandle] = {}

TICK = [0]
"""Scans so far: the clock of `WatchedConnection.sent_at`, in `SCAN_PERIOD`s."""


class WatchedConnection(asyncpg.Connection):
    """asyncpg's connection with a slot for the tick its pending command was sent at; the
    driver writes `conn.sent_at = TICK[0]` before a command and `IDLE` after it."""

    __slots__ = ("sent_at",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent_at = IDLE


def limit(conn: Any, seconds: float) -> None:
    """Watch `conn`, opened on the running loop: a command it sends may wait `seconds` for
    its answer (up to one `SCAN_PERIOD` more). A connection of another class is not
    watched."""
    if type(conn) is not WatchedConnection:
        return
    _watched[conn] = max(1, math.ceil(seconds / SCAN_PERIOD))
    loop = asyncio.get_running_loop()
    if loop not in _armed:
        _arm(loop)


def sent(conn: Any) -> None:
    """`conn` sent a command (then `answered`, in a `finally`); what the driver does inline."""
    if type(conn) is WatchedConnection:
        conn.sent_at = TICK[0]


def answered(conn: Any) -> None:
    if type(conn) is WatchedConnection:
        conn.sent_at = IDLE


def watched(conn: Any) -> bool:
    return conn in _watched


def pending() -> int:
    """How many watched connections are waiting for an answer right now."""
    return sum(1 for conn in _watched if conn.sent_at != IDLE)


def _arm(loop: asyncio.AbstractEventLoop) -> None:
    _armed[loop] = loop.call_later(SCAN_PERIOD, _scan, loop)


def _scan(loop: asyncio.AbstractEventLoop) -> None:
    _armed.pop(loop, None)
    TICK[0] += 1
    now = TICK[0]
    for conn, allowed in list(_watched.items()):
        since = conn.sent_at
        if since == IDLE:
            if conn.is_closed():  # dropped by the pool or closed: no longer watched
                del _watched[conn]
        elif now - since > allowed:
            del _watched[conn]
            _log.warning("no answer from PostgreSQL for %.1f s: closing the connection",
                         (now - since) * SCAN_PERIOD)
            try:
                conn.terminate()
            except Exception:  # a connection of a loop already closed: nothing to close
                _log.debug("terminating an unanswered connection failed", exc_info=True)
    if _watched and not loop.is_closed():
        _arm(loop)
