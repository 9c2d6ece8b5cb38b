"""The watchdog closes a connection whose command has waited past its limit, and only that."""

from __future__ import annotations

import asyncio

import pytest

from adapters.persistence import watchdog


class FakeConnection:
    def __init__(self) -> None:
        self.terminated = False
        self.closed = False

    def terminate(self) -> None:
        self.terminated = self.closed = True

    def is_closed(self) -> bool:
        return self.closed


@pytest.fixture(autouse=True)
def _fast_scans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quick scans, and only this test's connections watched."""
    monkeypatch.setattr(watchdog, "SCAN_PERIOD", 0.01)
    monkeypatch.setattr(watchdog, "SENT", {})
    monkeypatch.setattr(watchdog, "_ticks_allowed", {})


async def test_a_command_unanswered_past_its_limit_gets_its_connection_closed() -> None:
    stuck = FakeConnection()
    watchdog.limit(stuck, 0.05)
    watchdog.sent(stuck)
    await asyncio.sleep(0.3)
    assert stuck.terminated
    assert stuck not in watchdog.SENT


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


async def test_a_connection_without_a_limit_is_not_watched() -> None:
    unwatched = FakeConnection()
    watchdog.sent(unwatched)
    assert unwatched not in watchdog.SENT
    assert watchdog.pending() == 0


async def test_a_closed_connection_is_forgotten_and_the_scan_stops() -> None:
    conn = FakeConnection()
    watchdog.limit(conn, 60)
    loop = asyncio.get_running_loop()
    assert loop in watchdog._armed
    conn.closed = True  # the pool dropped it
    await asyncio.sleep(0.1)
    assert conn not in watchdog.SENT
    assert loop not in watchdog._armed
