"""The supervisor's worker lines become events operators can query."""

from __future__ import annotations

import logging

import pytest

from entrypoints.supervision import WorkerEvents


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.error", logging.INFO, "", 0, message, (), None)


@pytest.mark.parametrize(("message", "level", "event", "pid"), [
    ("Child process [4242] died", "WARNING", "worker_died", 4242),
    ("Child process [17] failed to start, stopping the parent process.", "ERROR",
     "worker_failed_to_start", 17),
])
def test_a_worker_line_becomes_an_event_with_its_pid(
    message: str, level: str, event: str, pid: int
) -> None:
    line = record(message)

    assert WorkerEvents().filter(line) is True

    assert (line.levelname, line.levelno) == (level, logging.getLevelName(level))
    assert (line.event, line.worker_pid) == (event, pid)  # type: ignore[attr-defined]
    assert str(pid) in line.getMessage()


def test_every_other_line_passes_unchanged() -> None:
    line = record("Started parent process [99]")

    assert WorkerEvents().filter(line) is True

    assert (line.levelname, line.getMessage()) == ("INFO", "Started parent process [99]")
    assert not hasattr(line, "event")
