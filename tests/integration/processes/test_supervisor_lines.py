"""What `paygate serve --workers 2` writes: JSON lines only, a worker's death among them."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest
from gateway_client import Gateway, gateway_env
from process_harness import PaygateProcess, Processes, wait_for

from entrypoints.cli.serving import WORKER_HEALTHCHECK_SECONDS

pytestmark = pytest.mark.slow
_STARTED = re.compile(r"Started server process \[(\d+)\]")


def events(process: PaygateProcess) -> list[dict[str, Any]]:
    """Every line the process wrote, each of which must be one JSON object."""
    lines = [line for line in process.output().splitlines() if line.strip()]
    for line in lines:
        assert line.startswith("{"), f"not a JSON line: {line!r}"
    return [json.loads(line) for line in lines]


def worker_pids(process: PaygateProcess) -> list[int]:
    return [int(m[1]) for e in events(process) if (m := _STARTED.match(e["message"]))]


def two_workers(processes: Processes, master_key: str) -> PaygateProcess:
    """`paygate serve --workers 2`, live, with both of its workers started."""
    env = gateway_env(processes.workdir, master_key, PAYGATE_WORKER="off")
    gateway = processes.start("gateway", "serve", "--workers", "2", env=env).wait_live()
    wait_for("both workers to start", lambda: len(worker_pids(gateway)) == 2, timeout=30)
    return gateway


def test_a_killed_worker_is_a_json_warning_and_every_line_is_json(
    processes: Processes, master_key: str
) -> None:
    gateway = two_workers(processes, master_key)
    victim = worker_pids(gateway)[0]

    started = len(worker_pids(gateway))
    os.kill(victim, signal.SIGKILL)
    # uvicorn's supervisor may find the victim still alive, then wait out its health check
    # for an answer that never comes, before it starts the next worker, whose start-up
    # takes seconds more on a loaded host
    wait_for("a worker to take its place",
             lambda: len(worker_pids(gateway)) > started, timeout=WORKER_HEALTHCHECK_SECONDS + 60)
    api = Gateway(gateway.base_url)
    paid = api.pay(api.new_merchant(), "ORDER-AFTER-KILL")
    api.close()
    gateway.stop()

    written = events(gateway)
    [died] = [e for e in written if e.get("worker_pid") == victim]
    assert (died["level"], died["event"]) == ("WARNING", "worker_died")
    assert any(e["level"] == "WARNING" and "SQLite" in e["message"] for e in written)
    assert paid["status"] == "succeeded"
    assert any(e["logger"] == "paygate.access" and e.get("payment_no") == paid["payment_no"]
               for e in written)


def _alive(pid: int) -> bool:
    """Running, or stopped; not gone and not a zombie waiting for whoever adopted it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_stopping_a_killed_supervisor_ends_the_workers_it_left_behind(
    processes: Processes, master_key: str
) -> None:
    """The harness's promise (docs/adr/0035): no process of a test outlives its stop."""
    gateway = two_workers(processes, master_key)
    workers = worker_pids(gateway)
    assert gateway.process is not None
    gateway.process.kill()  # the supervisor dies at once; its workers serve on, orphaned
    gateway.process.wait(timeout=10)
    assert all(_alive(pid) for pid in workers)

    gateway.stop()

    wait_for("the orphaned workers to be gone",
             lambda: not any(_alive(pid) for pid in workers), timeout=10)
