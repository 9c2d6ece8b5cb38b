"""Suite-wide reporting: how many tests really ran against PostgreSQL.

Under `CI=true` a PostgreSQL test fails instead of skipping, and this line in the output
shows they ran rather than silently passing on SQLite alone.
"""

from __future__ import annotations

from collections import Counter

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
