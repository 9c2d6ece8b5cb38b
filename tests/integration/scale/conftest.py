"""Scale-out and failure drills: several `paygate` processes on one PostgreSQL schema.

Reuses the process suite's harness (free ports, bounded start, SIGTERM/SIGKILL finalizers)
and signed client. A failed test's report carries the log of every process still running.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "processes"))

from pg_schemas import create_schema, drop_schema
from process_harness import Processes, running_logs


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed:
        report.sections.extend(running_logs())


@pytest.fixture
def master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture(scope="module")
def module_postgres_url(postgres_server: str) -> Iterator[str]:
    """A schema of its own for a whole module, for drills that share one fleet of processes
    (the per-test `postgres_url` would restart them for every test)."""
    schema = asyncio.run(create_schema(postgres_server))
    try:
        yield str(make_url(postgres_server).update_query_dict({"search_path": schema}))
    finally:
        asyncio.run(drop_schema(postgres_server, schema))
