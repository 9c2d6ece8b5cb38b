"""The watchdog closes a connection whose command has waited past its limit, and only that."""

from __future__ import annotations

import asyncio
import gc
from weakref import WeakKeyDictionary

import pytest

from adapters.persistence import watchdog


class FakeConnection:
    def __init__(self) -> None:
        self.terminated = False

    def terminate(self) -> None:
        self.terminated = True


@pytest.fixture(autouse=True)
def _fast_scans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quick scans, and only this test's connections watched (the sent times are left
    shared: the driver writes them in place)."""
    monkeypatch.setattr(watchdog, "SCAN_PERIOD", 0.01)
    monkeypatch.setattr(watchdog, "_limits", WeakKeyDictionary())


async def test_a_command_unanswered_past_its_limit_gets_its_connection_closed() -> None:
    stuck = FakeConnection()
    watchdog.limit(stuck, 0.05)
    watchdog.sent(stuck)
    await asyncio.sleep(0.2)
    assert stuck.terminated
    assert watchdog.pending() == 0


async def test_an_answered_command_leaves_its_connection_alone() -> None:
    quick = FakeConnection()
    watchdog.limit(quick, 0.05)
    watchdog.sent(quick)
    watchdog.answered(quick)
    await asyncio.sleep(0.2)
    assert not quick.terminated


async def test_a_command_within_its_limit_is_left_to_finish() -> None:
    slow, stuck = FakeConnection(), FakeConnection()
    watchdog.limit(slow, 60)
    watchdog.limit(stuck, 0.05)
    watchdog.sent(slow)
    watchdog.sent(stuck)
    await asyncio.sleep(0.2)
    assert (slow.terminated, stuck.terminated) == (False, True)
    watchdog.answered(slow)
    assert watchdog.pending() == 0


async def test_a_connection_without_a_limit_is_never_closed() -> None:
    unwatched = FakeConnection()
    watchdog.sent(unwatched)
    await asyncio.sleep(0.1)
    watchdog.answered(unwatched)
    assert not unwatched.terminated


async def test_the_scan_stops_once_no_watched_connection_is_left() -> None:
    conn = FakeConnection()
    watchdog.limit(conn, 60)
    loop = asyncio.get_running_loop()
    assert loop in watchdog._armed
    del conn
    gc.collect()  # the pool dropped it: nothing of this loop to watch any more
    await asyncio.sleep(0.05)
    assert loop not in watchdog._armed
