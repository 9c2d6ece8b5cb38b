"""Suite-wide: the longest files first, and how many tests really ran against PostgreSQL.

Under `CI=true` a PostgreSQL test fails instead of skipping, and this line in the output
shows they ran rather than silently passing on SQLite alone.
"""

from __future__ import annotations

from collections import Counter

import pytest

_postgres: Counter[str] = Counter()

LONGEST_FIRST = (
    # files of 40 s and more on the two-core CI machine (`--durations`), longest first
    "tests/integration/scale/test_event_feed_order.py",
    "tests/integration/observability/test_slo_promtool.py",
    "tests/integration/scale/test_pgbouncer.py",
    "tests/integration/processes/test_supervisor_lines.py",
    "tests/integration/processes/test_master_key_processes.py",
    "tests/integration/processes/test_merchant_webhooks.py",
    # then every file that starts processes: most of its time is waiting on them
    "tests/integration/scale/",
    "tests/integration/processes/",
    "tests/integration/telemetry/",
    "tests/integration/observability/",
    "tests/integration/test_server_process.py",
    "tests/integration/cli/",
)


def _rank(nodeid: str) -> int:
    return next((i for i, prefix in enumerate(LONGEST_FIRST) if nodeid.startswith(prefix)),
                len(LONGEST_FIRST))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files are handed out first (docs/adr/0032; tox runs xdist with
    `--no-loadscope-reorder`, which keeps this order): with one file per worker, a long
    file started last keeps the run going minutes after the others are done. A file's own
    tests keep their order (a stable sort by file rank)."""
    items.sort(key=lambda item: _rank(item.nodeid))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "postgres" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _postgres[report.outcome] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _postgres:
        counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(_postgres.items()))
        terminalreporter.write_line(f"PostgreSQL tests: {counts}")
