"""The process-level suite: `paygate` commands as real processes on free ports.

Gateways that several tests can share (one with the background worker, one without) are
started once per session; each test makes its own merchant, so nothing leaks between them.
A failed test's report carries the log of every paygate process still running.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_client import Deployment, Gateway, Rows, gateway_env
from process_harness import Processes, running_logs
from webhook_receiver import WebhookReceiver, receiving


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed:
        report.sections.extend(running_logs())


@pytest.fixture(scope="session")
def master_key() -> str:
    """One key for every process of a deployment, so card fingerprints agree."""
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def _deployment(workdir: Path, master_key: str, worker: str) -> Iterator[Deployment]:
    started = Processes(workdir)
    env = gateway_env(workdir, master_key, PAYGATE_WORKER=worker)
    try:
        process = started.start("gateway", "serve", env=env).wait_live()
        api = Gateway(process.base_url)
        try:
            yield Deployment(process, api, Rows(workdir / "paygate.db"), env, workdir)
        finally:
            api.close()
    finally:
        started.stop_all()


@pytest.fixture(scope="session")
def gateway_with_worker(
    tmp_path_factory: pytest.TempPathFactory, master_key: str
) -> Iterator[Deployment]:
    yield from _deployment(tmp_path_factory.mktemp("worker-on"), master_key, "on")


@pytest.fixture(scope="session")
def gateway_without_worker(
    tmp_path_factory: pytest.TempPathFactory, master_key: str
) -> Iterator[Deployment]:
    yield from _deployment(tmp_path_factory.mktemp("worker-off"), master_key, "off")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with receiving(WebhookReceiver()) as running:
        yield running
