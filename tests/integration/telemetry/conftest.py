"""The cross-process observability acceptance suite.

Real `paygate` processes on free ports (started with the process suite's harness), a real
Prometheus scraping the gateway, and the OTLP/HTTP receiver of the observability suite
collecting the spans every process exports. A failed test's report carries the log of
every paygate process still running and of Prometheus.

Deployments that several tests read (the traced gateway and its risk service, the
unsampled gateway) are started once per session; each test makes its own merchant.
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_INTEGRATION = Path(__file__).resolve().parent.parent
for _helpers in (_INTEGRATION / "processes", _INTEGRATION / "observability"):
    if str(_helpers) not in sys.path:
        sys.path.insert(0, str(_helpers))

from gateway_client import Gateway, gateway_env  # noqa: E402
from otlp_receiver import otlp_receiver  # noqa: E402
from process_harness import Processes, running_logs  # noqa: E402
from prometheus_server import running_prometheus_logs  # noqa: E402
from traces import Deployment, Spans  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed:
        report.sections.extend(running_logs())
        report.sections.extend(running_prometheus_logs())


@pytest.fixture(scope="session")
def master_key() -> str:
    """One key for every process of a deployment, so card fingerprints agree."""
    return base64.b64encode(os.urandom(32)).decode()


def _traces_to(endpoint: str, **settings: str) -> dict[str, str]:
    return {
        "PAYGATE_TRACING": "on",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{endpoint}/v1/traces",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "PAYGATE_LOG_LEVEL": "DEBUG",
        **settings,
    }


@pytest.fixture(scope="session")
def traced(tmp_path_factory: pytest.TempPathFactory, master_key: str) -> Iterator[Deployment]:
    """`paygate serve-risk` and `paygate serve` asking it, both exporting every span."""
    workdir = tmp_path_factory.mktemp("traced")
    started = Processes(workdir)
    with otlp_receiver() as (endpoint, received):
        try:
            risk = started.start(
                "risk", "serve-risk", env=_traces_to(endpoint, PAYGATE_MASTER_KEY=master_key)
            )
            gateway = started.start(
                "gateway",
                "serve",
                env=gateway_env(
                    workdir, master_key, PAYGATE_RISK_URL=risk.base_url, **_traces_to(endpoint)
                ),
            )
            risk.wait_live()
            gateway.wait_live()
            api = Gateway(gateway.base_url)
            try:
                yield Deployment(gateway, (risk,), api, Spans(received), workdir)
            finally:
                api.close()
        finally:
            started.stop_all()


@pytest.fixture(scope="session")
def unsampled(tmp_path_factory: pytest.TempPathFactory, master_key: str) -> Iterator[Deployment]:
    """`paygate serve` with the legacy JAEGER_SAMPLING_RATE=0: root traces are dropped."""
    workdir = tmp_path_factory.mktemp("unsampled")
    started = Processes(workdir)
    with otlp_receiver() as (endpoint, received):
        try:
            env = gateway_env(workdir, master_key, **_traces_to(endpoint, JAEGER_SAMPLING_RATE="0"))
            gateway = started.start("unsampled-gateway", "serve", env=env).wait_live()
            api = Gateway(gateway.base_url)
            try:
                yield Deployment(gateway, (), api, Spans(received), workdir)
            finally:
                api.close()
        finally:
            started.stop_all()


@pytest.fixture(scope="session")
def split(tmp_path_factory: pytest.TempPathFactory, master_key: str) -> Iterator[Deployment]:
    """The four processes of a split deployment, every one exporting its spans."""
    workdir = tmp_path_factory.mktemp("split")
    started = Processes(workdir)
    with otlp_receiver() as (endpoint, received):
        try:
            key = {"PAYGATE_MASTER_KEY": master_key}
            risk = started.start("risk", "serve-risk", env=_traces_to(endpoint, **key))
            order = started.start(
                "order",
                "serve-order",
                env=_traces_to(
                    endpoint,
                    PAYGATE_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'orders.db'}",
                    **key,
                ),
            )
            channel_env = gateway_env(workdir, master_key, **_traces_to(endpoint))
            channel = started.start("channel", "serve-channel", env=channel_env)
            services = (risk, order, channel)
            for service in services:
                service.wait_live()
            gateway = started.start(
                "gateway",
                "serve",
                env=gateway_env(
                    workdir,
                    master_key,
                    PAYGATE_RISK_URL=risk.base_url,
                    PAYGATE_ORDER_URL=order.base_url,
                    PAYGATE_CHANNEL_URL=channel.base_url,
                    **_traces_to(endpoint),
                ),
            ).wait_live()
            api = Gateway(gateway.base_url)
            try:
                yield Deployment(gateway, services, api, Spans(received), workdir)
            finally:
                api.close()
        finally:
            started.stop_all()
