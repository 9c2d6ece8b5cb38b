"""A PostgreSQL cluster of a test's own, in a temporary directory, that the test may stop.

The shared server is never stopped: `initdb` makes a throwaway cluster on a free port with
its socket in the same directory. Run as root, the cluster's commands run as the `postgres`
user (PostgreSQL refuses root), and the directory is handed to that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from process_harness import free_port

BIN = Path(os.environ.get("PAYGATE_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
COMMAND_TIMEOUT = 60


def require(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}. CI=true: the drill must run, not skip.")
    pytest.skip(reason)


class ThrowawayCluster:
    def __init__(self) -> None:
        if not (BIN / "initdb").exists():
            require(f"no initdb in {BIN}")
        self._as: list[str] = []
        self.root = Path(tempfile.mkdtemp(prefix="paygate-drill-pg-"))
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                require("running as root and there is no postgres user to run initdb as")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.data = self.root / "data"
        self.port = free_port()
        self._run(
            str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync"
        )

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        """Stop it if it runs, and remove the directory; the finalizer."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self._as, str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            [*self._as, *command],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
