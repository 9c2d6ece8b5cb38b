"""Suite-wide reporting: how many tests really ran against PostgreSQL, and where an
asyncio test that ran out of time was waiting.

Under `CI=true` a PostgreSQL test fails instead of skipping, and this line in the output
shows they ran rather than silently passing on SQLite alone.
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import Iterator

import pytest

_postgres: Counter[str] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "postgres" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _postgres[report.outcome] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _postgres:
        counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(_postgres.items()))
        terminalreporter.write_line(f"PostgreSQL tests: {counts}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[None]:
    """A test that ran out of time (pytest-timeout, docs/adr/0035) while its event loop
    waited: the report adds where each of that loop's tasks was waiting, which the main
    thread's stack (the loop's `select`) does not say."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if call.excinfo is None or not str(call.excinfo.value).startswith("Timeout (>"):
        return
    waiting = _tasks_waiting()
    if waiting:
        report.sections.append(("asyncio tasks at the timeout", waiting))


def _tasks_waiting() -> str:
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:  # no loop in this thread: not an asyncio test
        return ""
    stacks = io.StringIO()
    for task in asyncio.all_tasks(loop):
        task.print_stack(limit=20, file=stacks)
    return stacks.getvalue()
