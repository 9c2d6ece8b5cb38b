"""A real Prometheus (`/usr/bin/prometheus`) scraping one target every second.

`find_prometheus()` skips the tests when the binary is missing, except under `CI=true`,
where they fail: CI must never go green by skipping. `PrometheusServer` writes its config
into the test's tmp dir, keeps its TSDB there, and is always stopped by its owner.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from process_harness import free_port

DEFAULT_BINARY = "/usr/bin/prometheus"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
SCRAPE_INTERVAL = "1s"
JOB = "paygate"

_running: list[PrometheusServer] = []


def find_prometheus() -> str:
    found = os.environ.get("PAYGATE_TEST_PROMETHEUS") or (
        DEFAULT_BINARY if Path(DEFAULT_BINARY).exists() else shutil.which("prometheus")
    )
    if found:
        return found
    message = "the prometheus binary is not installed (apt-get install prometheus)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI must run the Prometheus acceptance test")
    pytest.skip(message)


def scrape_config(target: str) -> str:
    return (
        "global:\n"
        f"  scrape_interval: {SCRAPE_INTERVAL}\n"
        f"  evaluation_interval: {SCRAPE_INTERVAL}\n"
        "scrape_configs:\n"
        f"  - job_name: {JOB}\n"
        f"    scrape_interval: {SCRAPE_INTERVAL}\n"
        "    scrape_timeout: 900ms\n"
        "    metrics_path: /metrics\n"
        "    static_configs:\n"
        f"      - targets: ['{target}']\n"
    )


@dataclass
class PrometheusServer:
    binary: str
    workdir: Path
    target: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    flags: tuple[str, ...] = ()  # more command-line flags (`--enable-feature=...`)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / "prometheus.log"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self) -> PrometheusServer:
        config = self.workdir / "prometheus.yml"
        config.write_text(scrape_config(self.target))
        command = [
            self.binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
            *self.flags,
        ]
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                command, cwd=self.workdir, stdout=sink, stderr=subprocess.STDOUT
            )
        _running.append(self)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"prometheus exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.base_url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"prometheus was not ready after {START_TIMEOUT} s:\n{self.output()}")

    def stop(self) -> None:
        if self in _running:
            _running.remove(self)
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)

    def query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query through the HTTP API; the result vector."""
        params: dict[str, str] = {"query": promql}
        if at is not None:
            params["time"] = f"{at:.3f}"
        response = httpx.get(f"{self.base_url}/api/v1/query", params=params, timeout=5)
        body = response.json()
        assert response.status_code == 200, (promql, body)
        assert body["status"] == "success", (promql, body)
        assert body["data"]["resultType"] == "vector", (promql, body)
        return list(body["data"]["result"])

    def scalar(self, promql: str, at: float | None = None) -> float:
        """The one value of a query that must give exactly one series."""
        result = self.query(promql, at)
        assert len(result) == 1, (promql, result)
        return float(result[0]["value"][1])

    def scrapes(self) -> int:
        """Successful scrapes of the target so far."""
        result = self.query(f'count_over_time(up{{job="{JOB}"}}[1h])')
        return int(float(result[0]["value"][1])) if result else 0

    def wait_for(self, what: str, check: Any, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what}:\n{self.output()}")
            time.sleep(0.1)

    def wait_for_value(self, promql: str, expected: float, timeout: float = 20.0) -> None:
        """Until the query's single value equals `expected` (what the target now exports)."""

        def reached() -> bool:
            result = self.query(promql)
            return len(result) == 1 and math.isclose(float(result[0]["value"][1]), expected)

        self.wait_for(f"{promql} == {expected}", reached, timeout)


def running_prometheus_logs() -> list[tuple[str, str]]:
    return [("prometheus log", server.output()) for server in _running]
