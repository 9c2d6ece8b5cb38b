"""A real PgBouncer in transaction mode in front of the test PostgreSQL, for the tests of
`PAYGATE_DATABASE_POOLER=pgbouncer`: a temporary ini, a free port, `auth_type = any`.

Missing PgBouncer skips, except under `CI=true`, where it fails (`.ci/run` installs it).
PgBouncer refuses to run as root, so as root it is started with `-u postgres` (or nobody).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

DEBIAN_PATH = Path("/usr/sbin/pgbouncer")  # Debian installs it outside a user's PATH
START_TIMEOUT = 10.0


def pgbouncer_binary() -> str:
    """The pgbouncer executable, or a skip (a failure under CI=true)."""
    found = shutil.which("pgbouncer") or (str(DEBIAN_PATH) if DEBIAN_PATH.exists() else None)
    if found is None:
        message = "pgbouncer is not installed (apt-get install pgbouncer)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}. CI=true: the pgbouncer tests must run, not skip.")
        pytest.skip(message)
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["-u", user]
    pytest.fail("pgbouncer refuses to run as root and there is no postgres or nobody user")


@contextmanager
def pgbouncer(server_url: str, *, pool_size: int = 8) -> Iterator[str]:
    """PgBouncer in transaction mode for the database of `server_url` (a PostgreSQL URL);
    yields the same URL pointing at PgBouncer instead. `pool_size` server connections at
    most, fewer than the gateways' pools, so clients really take turns on them."""
    binary = pgbouncer_binary()
    server = make_url(server_url)
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="paygate-pgbouncer-"))
    workdir.chmod(0o755)
    ini = workdir / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"{server.database} = host={server.host or '127.0.0.1'} port={server.port or 5432} "
        f"dbname={server.database} user={server.username or 'postgres'}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        "auth_type = any\npool_mode = transaction\n"
        f"default_pool_size = {pool_size}\nmax_client_conn = 400\n"
        "server_reset_query =\n"
    )
    ini.chmod(0o644)
    log = workdir / "pgbouncer.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [binary, *_run_as(), str(ini)], stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        _wait_listening(port, process, log)
        yield str(server.set(host="127.0.0.1", port=port))
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pgbouncer exited with {process.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"pgbouncer did not listen within {START_TIMEOUT} s: {log.read_text()}")
