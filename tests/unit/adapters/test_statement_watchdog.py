"""The watchdog closes a connection whose command has waited past its limit, and only that."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from adapters.persistence import watchdog
from adapters.persistence.watchdog import IDLE, WatchedConnection


class FakeConnection(WatchedConnection):
    """A `WatchedConnection` that never connected: only what the watchdog uses."""

    __slots__ = ("closed", "terminated")

    def __init__(self) -> None:  # asyncpg's own __init__ needs a live protocol
        self.sent_at, self.terminated, self.closed = IDLE, False, False

    def terminate(self) -> None:
        self.terminated = self.closed = True

    def is_closed(self) -> bool:
        return self.closed

    def __del__(self) -> None:  # asyncpg's warns about an unclosed protocol it never had
        pass


@pytest.fixture(autouse=True)
def _fast_scans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quick scans, and only this test's connections watched."""
    monkeypatch.setattr(watchdog, "SCAN_PERIOD", 0.01)
    monkeypatch.setattr(watchdog, "_watched", {})
    monkeypatch.setattr(watchdog, "WatchedConnection", FakeConnection)


async def test_a_command_unanswered_past_its_limit_gets_its_connection_closed() -> None:
    stuck = FakeConnection()
    watchdog.limit(stuck, 0.05)
    watchdog.sent(stuck)
    await asyncio.sleep(0.3)
    assert stuck.terminated
    assert not watchdog.watched(stuck)


async def test_an_answered_command_leaves_its_connection_alone() -> None:
    quick = FakeConnection()
    watchdog.limit(quick, 0.05)
    watchdog.sent(quick)
    watchdog.answered(quick)
    await asyncio.sleep(0.3)
    assert not quick.terminated
    assert watchdog.pending() == 0


async def test_a_command_within_its_limit_is_left_to_finish() -> None:
    slow, stuck = FakeConnection(), FakeConnection()
    watchdog.limit(slow, 60)
    watchdog.limit(stuck, 0.05)
    watchdog.sent(slow)
    watchdog.sent(stuck)
    await asyncio.sleep(0.3)
    assert (slow.terminated, stuck.terminated) == (False, True)
    assert watchdog.pending() == 1
    watchdog.answered(slow)
    assert watchdog.pending() == 0


async def test_a_connection_of_another_class_is_not_watched() -> None:
    class Plain:
        pass

    other = Plain()
    watchdog.limit(other, 0.05)
    watchdog.sent(other)
    assert not watchdog.watched(other)
    assert watchdog.pending() == 0


async def test_a_closed_connection_is_forgotten_and_the_scan_stops() -> None:
    conn = FakeConnection()
    watchdog.limit(conn, 60)
    loop = asyncio.get_running_loop()
    assert loop in watchdog._armed
    conn.closed = True  # the pool dropped it
    await asyncio.sleep(0.1)
    assert not watchdog.watched(conn)
    assert loop not in watchdog._armed


def test_the_watched_class_is_asyncpgs_own_with_one_slot_more() -> None:
    assert issubclass(WatchedConnection, asyncpg.Connection)
    assert WatchedConnection.__slots__ == ("sent_at",)
