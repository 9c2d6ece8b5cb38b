"""Several worker processes, one consistent /metrics: prometheus-client multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from promtool_runner import run_promtool

from observability.multiprocess import MULTIPROC_ENV, mark_worker_dead, prepare_multiprocess_dir

ROOT = Path(__file__).resolve().parents[3]
WORKER = """
import os
from observability.metrics import Metrics
metrics = Metrics()
metrics.record_payment("success", "sandbox", "USD", 0.2, 10.0)
metrics.observe_http("POST", "/api/v1/payments", 201, 0.01, 300, 400)
print(os.getpid())
"""
LIVE_WORKER = """
import sys
from observability.metrics import Metrics
metrics = Metrics(flush_interval=0.05)
metrics.record_payment("success", "sandbox", "USD", 0.2, 10.0)
print("recorded", flush=True)
sys.stdin.read()  # stays alive, never renders, until the test closes stdin
"""
SCRAPE = """
import sys
from observability.metrics import Metrics
sys.stdout.write(Metrics().render().decode())
"""


def run(code: str, directory: str) -> str:
    env = {**os.environ, MULTIPROC_ENV: directory, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True, timeout=60).stdout


def run_workers(count: int, directory: str) -> list[int]:
    env = {**os.environ, MULTIPROC_ENV: directory, "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER], env=env, text=True,
                                stdout=subprocess.PIPE) for _ in range(count)]
    return [int(worker.communicate(timeout=60)[0]) for worker in workers]


def sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return None


def test_the_scrape_adds_up_every_worker(tmp_path: Path) -> None:
    directory = prepare_multiprocess_dir(workers=3, directory=str(tmp_path), env={})
    assert directory is not None
    pids = run_workers(3, directory)
    text = run(SCRAPE, directory)
    assert len(set(pids)) == 3
    assert sample(text, "payment_gateway_payment_total",
                  status="success", channel="sandbox", currency="USD") == 3
    assert sample(text, "payment_gateway_http_requests_total",
                  method="POST", path="/api/v1/payments", status="201") == 3
    assert sample(text, "payment_gateway_payment_total",  # started at zero next to success
                  status="failed", channel="sandbox", currency="USD") == 0
    for pid in pids:
        mark_worker_dead(pid, directory)
    assert sample(run(SCRAPE, directory), "payment_gateway_payment_total",
                  status="success", channel="sandbox", currency="USD") == 3


def test_a_running_worker_s_updates_reach_another_process_s_scrape(tmp_path: Path) -> None:
    directory = prepare_multiprocess_dir(workers=2, directory=str(tmp_path), env={})
    assert directory is not None
    env = {**os.environ, MULTIPROC_ENV: directory, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen([sys.executable, "-c", LIVE_WORKER], env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline() == "recorded\n"
        deadline, seen = time.monotonic() + 10, None
        while seen is None and time.monotonic() < deadline:
            seen = sample(run(SCRAPE, directory), "payment_gateway_payment_total",
                          status="success", channel="sandbox", currency="USD")
        assert seen == 1
        assert worker.poll() is None  # flushed by the worker's thread, not by its exit
    finally:
        worker.communicate(input="", timeout=30)


def test_preparing_the_directory_empties_a_previous_run(tmp_path: Path) -> None:
    stale = tmp_path / "counter_4242.db"
    stale.write_bytes(b"old run")
    env: dict[str, str] = {}
    assert prepare_multiprocess_dir(workers=2, directory=str(tmp_path), env=env) == str(tmp_path)
    assert (stale.exists(), env[MULTIPROC_ENV]) == (False, str(tmp_path))


def test_one_worker_without_a_directory_keeps_plain_metrics() -> None:
    env: dict[str, str] = {}
    assert prepare_multiprocess_dir(workers=1, env=env) is None
    assert env == {}


def test_several_workers_without_a_directory_get_a_fresh_one() -> None:
    env: dict[str, str] = {}
    directory = prepare_multiprocess_dir(workers=4, env=env)
    assert directory is not None
    assert env[MULTIPROC_ENV] == directory
    assert list(Path(directory).iterdir()) == []
    Path(directory).rmdir()


def test_the_merged_scrape_passes_promtool(tmp_path: Path, promtool: str) -> None:
    directory = prepare_multiprocess_dir(workers=2, directory=str(tmp_path), env={})
    assert directory is not None
    run_workers(2, directory)
    result = run_promtool(promtool, "check", "metrics", stdin=run(SCRAPE, directory).encode())
    assert result.returncode == 0, result.stdout + result.stderr
