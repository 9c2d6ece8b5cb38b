"""Real `paygate` processes for the process-level suite.

`PaygateProcess` starts one `paygate ...` command on a free port with the environment a
deployment would export and its working directory in the test's tmp dir, waits for
`/health/live` with a bounded timeout, and stops it with SIGTERM (SIGKILL if it hangs).
Each process leads a process group of its own, and stopping it ends the whole group: a
`serve --workers N` killed before its graceful shutdown finished, or a parent a test killed,
leaves no worker running on (holding a port, a database session, the CPU) after its test.
Everything a process prints goes to a log file; `running_logs()` hands the logs of the
processes still running to the failure report (see conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

PAYGATE = Path(sys.executable).with_name("paygate")
START_TIMEOUT = 60.0  # generous: the suite runs several files at once (docs/adr/0032)
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 60.0
_INHERITED_PREFIXES = ("PAYGATE_", "OTEL_", "PROMETHEUS_MULTIPROC_DIR")

_running: list[PaygateProcess] = []


LISTENING = "Uvicorn running on"  # uvicorn's line once its socket is bound
PORT_TAKEN = "Address already in use"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_env(settings: Mapping[str, str]) -> dict[str, str]:
    """The test runner's environment without any paygate or telemetry setting of its own,
    plus `settings`: a process sees exactly what the test chose."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_PREFIXES)}
    return {**env, "PAYGATE_TRACING": "off", **settings}


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@dataclass
class PaygateProcess:
    """One `paygate` command; `serves` is False for commands without HTTP (`worker`)."""

    name: str
    args: tuple[str, ...]
    env: dict[str, str]
    workdir: Path
    serves: bool = True
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_start: int = 0  # where this start's lines begin in the log
    was_live: bool = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self) -> PaygateProcess:
        """Start without waiting, so several processes boot at once; a restart appends to
        the same log and keeps the port."""
        command = [str(PAYGATE), *self.args]
        if self.serves:
            command += ["--host", "127.0.0.1", "--port", str(self.port)]
        self.log_start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=self.env, stdout=sink, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, which stop() ends
            )
        _running.append(self)
        return self

    def wait_live(self, timeout: float = START_TIMEOUT) -> PaygateProcess:
        """Until this process answers /health/live on its port. `free_port` only finds a
        port free for a moment: another test's server may take it first. A process that
        has never been live and lost its port to another is started again on a new one;
        and an answer counts only once this process says it listens, so that the other
        server's answer is not taken for its."""
        assert self.process is not None, f"{self.name} was never started"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if not self.was_live and PORT_TAKEN in self._this_start():
                    self.port = free_port()
                    self.start()
                    continue
                pytest.fail(f"{self.describe()} exited with {self.process.returncode}")
            try:
                if (LISTENING in self._this_start() and httpx.get(
                        f"{self.base_url}/health/live", timeout=1).status_code == 200):
                    self.was_live = True
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        pytest.fail(f"{self.describe()} was not live after {timeout} s")

    def _this_start(self) -> str:
        """What this process wrote since it was last started."""
        with self.log.open("rb") as lines:
            lines.seek(self.log_start)
            return lines.read().decode(errors="replace")

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; then SIGKILL to whatever of its process
        group is left. The exit code (None if never started)."""
        if self in _running:
            _running.remove(self)
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        end_group(self.process.pid)
        return self.process.returncode

    def describe(self) -> str:
        return f"paygate {' '.join(self.args)} ({self.name}):\n{self.output()}"


class Processes:
    """The processes one fixture started; `stop_all` is its finalizer."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._started: list[PaygateProcess] = []

    def start(
        self, name: str, *args: str, env: Mapping[str, str], serves: bool = True
    ) -> PaygateProcess:
        started = PaygateProcess(name, args, process_env(env), self.workdir, serves).start()
        self._started.append(started)
        return started

    def stop_all(self) -> None:
        for started in reversed(self._started):
            started.stop()


def run_cli(*args: str, env: Mapping[str, str], workdir: Path) -> subprocess.CompletedProcess[str]:
    """A one-shot `paygate` command, as an operator would type it."""
    return subprocess.run(
        [str(PAYGATE), *args],
        cwd=workdir,
        env={"PAYGATE_OPERATOR": "bootstrap", **process_env(env)},  # who is acting
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


def wait_for(
    what: str, check: Callable[[], object], timeout: float = 10.0, every: float = 0.05
) -> None:
    """Poll `check()` until it is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def end_group(leader: int) -> None:
    """SIGKILL every process left in the group `leader` led (none: nothing happens)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader, signal.SIGKILL)


def running_logs() -> list[tuple[str, str]]:
    return [(f"paygate {p.name} log", p.output()) for p in _running]
