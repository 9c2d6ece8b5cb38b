"""The supervisor's lines (`paygate serve --workers N`) as operators look for them.

uvicorn's supervisor restarts a worker process that died, and says so at INFO in plain
words ("Child process [1234] died"). Through this filter on its logger that line is a
WARNING with the event and the pid as fields, so a worker killed by the kernel (out of
memory) or by a crash is found by a query, not by reading.
"""

from __future__ import annotations

import logging
import re

_DIED = re.compile(r"Child process \[(\d+)\] died")
_FAILED_TO_START = re.compile(r"Child process \[(\d+)\] failed to start")
SUPERVISOR_LOGGER = "uvicorn.error"


class WorkerEvents(logging.Filter):
    """Rewrites the supervisor's worker lines in place; every other record passes as is."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if died := _DIED.match(message):
            _rewrite(record, logging.WARNING, "worker_died", int(died[1]),
                     "worker process %s died; the supervisor starts another in its place")
        elif failed := _FAILED_TO_START.match(message):
            _rewrite(record, logging.ERROR, "worker_failed_to_start", int(failed[1]),
                     "worker process %s failed to start; the supervisor stops")
        return True


def _rewrite(record: logging.LogRecord, level: int, event: str, pid: int, text: str) -> None:
    record.levelno, record.levelname = level, logging.getLevelName(level)
    record.msg, record.args = text, (pid,)
    record.event, record.worker_pid = event, pid


def watch_workers() -> None:
    """Install the filter on the supervisor's logger of this (the parent) process."""
    supervisor = logging.getLogger(SUPERVISOR_LOGGER)
    if not any(isinstance(f, WorkerEvents) for f in supervisor.filters):
        supervisor.addFilter(WorkerEvents())
