"""Closing a PostgreSQL connection whose command has had no answer for too long.

The server's `statement_timeout` ends a statement that runs or waits too long, but only a
server that answers can send that. When the host dies or the network path is dropped,
nothing closes the socket and asyncpg would wait for TCP to notice (about two hours).
asyncpg can bound every command itself (`command_timeout`), but it arms and cancels a
timer for each one: +80 k instructions (+3.7 %) per payment (docs/benchmarks.md, row 21).

Here each watched connection has an entry in `SENT`: the scan tick at which its pending
command was sent, or `IDLE`. The driver overwrites it before and after each command,
inline (no call, no clock: the tick is a number in a list). Inserting and deleting the key
per command instead cost ~1,300 instructions a command, the dictionary filling with
deleted slots and resizing. One timer per event loop, running while there are connections
to watch, advances the tick every `SCAN_PERIOD` seconds and terminates the connections
whose command has waited past their limit: the command then fails as a lost connection
(`Unavailable`), and the pool drops the connection instead of reusing it. A closed
connection's entry goes at the next scan.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

SCAN_PERIOD = 0.25  # seconds: a connection is closed at most this long after its limit
IDLE = -1
_log = logging.getLogger(__name__)
_ticks_allowed: dict[Any, int] = {}  # connection -> whole scan periods it may wait
_armed: dict[asyncio.AbstractEventLoop, asyncio.TimerHandle] = {}

SENT: dict[Any, int] = {}
"""Watched connection -> the tick its pending command was sent at, or `IDLE`. The driver
writes `if conn in SENT: SENT[conn] = TICK[0]`, and `IDLE` in a `finally`."""
TICK = [0]
"""Scans so far: the clock of `SENT`, in `SCAN_PERIOD`s."""


def limit(conn: Any, seconds: float) -> None:
    """Watch `conn`, opened on the running loop: a command it sends may wait `seconds` for
    its answer (up to one `SCAN_PERIOD` more)."""
    _ticks_allowed[conn] = max(1, math.ceil(seconds / SCAN_PERIOD))
    SENT[conn] = IDLE
    loop = asyncio.get_running_loop()
    if loop not in _armed:
        _arm(loop)


def sent(conn: Any) -> None:
    """`conn` sent a command (then `answered`, in a `finally`); what the driver does inline."""
    if conn in SENT:
        SENT[conn] = TICK[0]


def answered(conn: Any) -> None:
    if conn in SENT:
        SENT[conn] = IDLE


def pending() -> int:
    """How many watched connections are waiting for an answer right now."""
    return sum(1 for tick in SENT.values() if tick != IDLE)


def _arm(loop: asyncio.AbstractEventLoop) -> None:
    _armed[loop] = loop.call_later(SCAN_PERIOD, _scan, loop)


def _scan(loop: asyncio.AbstractEventLoop) -> None:
    _armed.pop(loop, None)
    TICK[0] += 1
    now = TICK[0]
    for conn, since in list(SENT.items()):
        if since == IDLE:
            if conn.is_closed():  # dropped by the pool or closed: no longer watched
                _forget(conn)
        elif now - since > _ticks_allowed[conn]:
            _forget(conn)
            _log.warning("no answer from PostgreSQL for %.1f s: closing the connection",
                         (now - since) * SCAN_PERIOD)
            try:
                conn.terminate()
            except Exception:  # a connection of a loop already closed: nothing to close
                _log.debug("terminating an unanswered connection failed", exc_info=True)
    if SENT and not loop.is_closed():
        _arm(loop)


def _forget(conn: Any) -> None:
    SENT.pop(conn, None)
    _ticks_allowed.pop(conn, None)
