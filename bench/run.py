"""The load benchmark: reproduce the performance-impact table on this stack.

One configuration per call (or the whole matrix with --matrix). For each one it

1. prepares a fresh database (an SQLite file under bench/results/tmp/, or the PostgreSQL
   database `paygate_bench`, dropped and created again), upgrades it and creates a merchant;
2. starts `paygate serve --workers N` with the background worker and the rate limit off and
   the configuration's metrics / tracing / sampling settings; with tracing on, spans are
   exported over OTLP/HTTP to a local sink (bench/otlp_sink.py) that accepts and discards;
3. pre-signs requests just before each run (signatures are valid 300 s) and drives them with
   wrk + bench/replay.lua, each request sent once:
     pay     POST /api/v1/payments, unique order_no each, sandbox card 4242...
     read    GET /api/v1/payments/{payment_no} of the payments made by the pay run
     refund  POST /api/v1/payments/{payment_no}/refunds, a partial refund of 1 minor unit
             (a reason of its own each: the same signed bytes are accepted once)
4. measures throughput, P50/P99 (wrk --latency), non-2xx, the peak RSS and the CPU of the
   server process tree (sampled from /proc), and after the pay run checks the database:
   exactly one payment per accepted request, each succeeded with its two ledger rows;
5. writes bench/results/<config>.json.

    .venv/bin/python bench/run.py --db postgres --workers 2 --obs prom+trace10 -c 64
    .venv/bin/python bench/run.py --matrix            # every configuration
    .venv/bin/python bench/run.py --raw -c 64          # the raw-driver reference

Only wrk (Debian's `wrk`) and the project's own dependencies are needed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
TMP = RESULTS / "tmp"
VENV_BIN = Path(sys.executable).parent
PAYGATE = str(VENV_BIN / "paygate")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "paygate_bench"
PG_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_DB}"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

OBS = {
    # name: (metrics, tracing, sampling ratio)
    "none": (False, False, None),
    "prom": (True, False, None),
    "prom+trace100": (True, True, 1.0),
    "prom+trace10": (True, True, 0.1),
    "prom+trace0": (True, True, 0.0),  # every request unsampled; not in the matrix
}
MATRIX_OBS = ["none", "prom", "prom+trace100", "prom+trace10"]
DEFAULT_CONNECTIONS = {("sqlite", 1): 32, ("sqlite", 2): 32,
                       ("postgres", 1): 64, ("postgres", 2): 64}
CARD = {"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2030,
        "cvc": "123"}


def log(*parts: Any) -> None:
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- database


async def _fresh_postgres() -> None:
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", PG_DB)
        await admin.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
        await admin.execute(f"CREATE DATABASE {PG_DB}")
    finally:
        await admin.close()


def fresh_database(db: str, workdir: Path) -> str:
    if db == "sqlite":
        for path in workdir.glob("paygate.db*"):
            path.unlink()
        return f"sqlite+aiosqlite:///{workdir / 'paygate.db'}"
    asyncio.run(_fresh_postgres())
    return PG_URL


async def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    return asyncio.run(_query(url, sql))


# ---------------------------------------------------------------- processes


def analyze(db_url: str) -> None:
    """Give the planner the statistics autovacuum gives any database past its first minute.

    A fresh database has none: on an empty table PostgreSQL costs every index that starts
    with `merchant_id` the same as the unique (merchant_id, order_no) one, and the plan a
    connection caches for the duplicate-order lookup can be one that walks all of the
    merchant's payments. Autovacuum analyzes the table within a minute of the first
    writes and the cached plans are replanned; a 15 s run would otherwise measure only
    that first minute. SQLite's planner needs no statistics for this lookup.
    """
    if db_url.startswith("postgresql"):
        query(db_url, "ANALYZE")


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except OSError:
        return 0


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def postgres_ticks() -> int:
    total = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == "postgres":
                    total += cpu_ticks(int(entry))
            except OSError:
                pass
    return total


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except OSError:
        return 0


class Sampler:
    """Peak RSS of a process tree (sum over its processes) and its CPU over a window."""

    def __init__(self, root: int, interval: float = 0.25) -> None:
        self.root, self.interval = root, interval
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = process_tree(self.root)
            self.peak_rss = max(self.peak_rss, sum(rss_bytes(p) for p in pids))
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self.pids = process_tree(self.root)
        self._ticks0 = sum(cpu_ticks(p) for p in self.pids)
        self._machine0, self._pg0 = machine_ticks(), postgres_ticks()
        self._t0 = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.wall = time.monotonic() - self._t0
        self.ticks = sum(cpu_ticks(p) for p in self.pids) - self._ticks0
        busy, total = machine_ticks()
        self.machine_busy = 100.0 * (busy - self._machine0[0]) / max(1, total - self._machine0[1])
        self.pg_ticks = postgres_ticks() - self._pg0
        self._stop.set()
        self._thread.join()

    def extra(self) -> dict[str, float]:
        """Where the rest of the machine went: PostgreSQL, and everything else (wrk, other
        programs on the machine), in percent of one core."""
        cores = os.cpu_count() or 1
        pg = 100.0 * self.pg_ticks / CLK_TCK / self.wall
        return {"machine_busy_percent": round(self.machine_busy, 1),
                "postgres_cpu_percent": round(pg, 1),
                "other_cpu_percent": round(self.machine_busy * cores - self.cpu_percent - pg, 1)}

    @property
    def cpu_percent(self) -> float:
        """Percent of one core (200 % = both cores of a 2-core machine)."""
        return 100.0 * self.ticks / CLK_TCK / self.wall


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status < 500:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up in {timeout} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- requests


def sign(secret: bytes, stamp: str, method: str, target: str, body: bytes) -> str:
    message = f"{stamp}\n{method}\n{target}\n".encode() + body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def write_requests(reqdir: Path, threads: int, secret: str,
                   items: list[tuple[str, str, str]]) -> None:
    """Sign (method, path, body) now and deal them round-robin into one file per thread."""
    if reqdir.exists():
        shutil.rmtree(reqdir)
    reqdir.mkdir(parents=True)
    key, stamp = secret.encode(), str(int(time.time()))
    lines: list[list[str]] = [[] for _ in range(threads)]
    for i, (method, path, body) in enumerate(items):
        sig = sign(key, stamp, method, path, body.encode())
        lines[i % threads].append(f"{method}\t{path}\t{stamp}\t{sig}\t{body}\n")
    for t, chunk in enumerate(lines):
        (reqdir / f"req-{t}.txt").write_text("".join(chunk))


def payment_items(run_id: str, count: int) -> list[tuple[str, str, str]]:
    items = []
    for i in range(count):
        body = json.dumps({"order_no": f"B-{run_id}-{i}", "amount": 100_000, "currency": "USD",
                           "channel": "sandbox", "payment_method": CARD},
                          separators=(",", ":"))
        items.append(("POST", "/api/v1/payments", body))
    return items


def cycle(values: list[str], count: int) -> list[str]:
    return [values[i % len(values)] for i in range(count)] if values else []


# ---------------------------------------------------------------- wrk

LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, reqdir: Path, api_key: str, threads: int, connections: int,
            duration: int) -> dict[str, Any]:
    env = dict(os.environ, REQ_DIR=str(reqdir), API_KEY=api_key)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
           "--timeout", "10s", "-s", str(BENCH / "replay.lua"), url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    text = out.stdout
    result: dict[str, Any] = {
        "requests": int(re.search(r"(\d+) requests in", text).group(1)),  # type: ignore[union-attr]
        "throughput": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),  # type: ignore[union-attr]
        "non_2xx": 0,
        "socket_errors": 0,
        "exhausted": "ran out of pre-signed" in out.stderr,
    }
    for pct, value, unit in LATENCY.findall(text):
        result[f"p{pct}_ms"] = round(float(value) * UNIT[unit], 2)
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        result["non_2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                      text):
        result["socket_errors"] = sum(int(g) for g in m.groups())
    result["wrk_output"] = text.strip().splitlines()[-12:]
    return result


def accepted_orders(reqdir: Path) -> list[str]:
    orders: list[str] = []
    for path in reqdir.glob("ok-*.txt"):
        orders.extend(line for line in path.read_text().splitlines() if line)
    return orders


# ---------------------------------------------------------------- one configuration


def provision_key(path: Path) -> Path:
    """The master key a deployment mounts: paygate makes none outside its quickstart."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
        path.chmod(0o600)
    return path


def server_env(db_url: str, workdir: Path, obs: str, sink_port: int | None,
               extra_path: str | None = None) -> dict[str, str]:
    metrics, tracing, ratio = OBS[obs]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAYGATE_", "OTEL_", "JAEGER_", "PROMETHEUS_"))}
    env.update(
        PAYGATE_DATABASE_URL=db_url,
        PAYGATE_MASTER_KEY_FILE=str(provision_key(workdir / "paygate.key")),
        PAYGATE_WORKER="off",
        PAYGATE_RATE_LIMIT_PER_SECOND="0",
        PAYGATE_METRICS="on" if metrics else "off",
        PAYGATE_TRACING="on" if tracing else "off",
        PAYGATE_LOG_LEVEL="WARNING",
        PAYGATE_DATABASE_POOL_SIZE=os.environ.get("PAYGATE_DATABASE_POOL_SIZE", "20"),
        PROMETHEUS_MULTIPROC_DIR=str(workdir / "prom"),
    )
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [extra_path, env.get("PYTHONPATH")]))
    if tracing:
        env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = f"http://127.0.0.1:{sink_port}/v1/traces"
        env["OTEL_TRACES_SAMPLER_ARG"] = str(ratio)
    return env


def run_config(args: argparse.Namespace, db: str, workers: int, obs: str) -> dict[str, Any]:
    name = f"{db}-w{workers}-{obs}" + (f"-{args.tag}" if args.tag else "")
    connections = args.connections or DEFAULT_CONNECTIONS[(db, workers)]
    workdir = TMP / name
    workdir.mkdir(parents=True, exist_ok=True)
    log(f"== {name}: {connections} connections, {args.duration} s per run")
    db_url = fresh_database(db, workdir)
    sink = sink_port = None
    if OBS[obs][1]:
        sink_port = free_port()
        sink = subprocess.Popen([sys.executable, str(BENCH / "otlp_sink.py"), str(sink_port)])
        wait_http(f"http://127.0.0.1:{sink_port}/health")
    env = server_env(db_url, workdir, obs, sink_port, args.server_pythonpath)
    subprocess.run([PAYGATE, "db", "upgrade"], env=env, check=True, capture_output=True)
    merchant = json.loads(subprocess.run(
        [PAYGATE, "merchants", "create", "--name", "Bench", "--json",
         "--operator", "bootstrap"],
        env=env, check=True, capture_output=True, text=True).stdout)
    port = free_port()
    server = subprocess.Popen([PAYGATE, "serve", "--port", str(port), "--workers", str(workers)],
                              env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {
        "config": name, "database": db, "workers": workers, "observability": obs,
        "connections": connections, "duration_s": args.duration, "wrk_threads": args.threads,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": {},
    }
    try:
        wait_http(base + "/health/live")
        secret, api_key = merchant["api_secret"], merchant["api_key"]
        run_id = f"{int(time.time())}"
        # warm-up: imports, pools, caches, the JIT of the SQL caches
        warm = TMP / name / "warm"
        write_requests(warm, args.threads, secret, payment_items(run_id + "w", 3000))
        run_wrk(base, warm, api_key, args.threads, connections, 2)
        analyze(db_url)
        for mix in args.mixes:
            reqdir = workdir / mix
            count = args.max_rate * args.duration
            if mix == "pay":
                write_requests(reqdir, args.threads, secret, payment_items(run_id, count))
            else:
                paid = [r[0] for r in query(
                    db_url, "SELECT payment_no FROM payments WHERE status = 'succeeded'")]
                if mix == "read":
                    items = [("GET", f"/api/v1/payments/{p}", "") for p in cycle(paid, count)]
                else:
                    # a reason of its own each: the same signed bytes twice are one request
                    # sent twice, refused as a replay (docs/adr/0023)
                    items = [("POST", f"/api/v1/payments/{p}/refunds",
                              f'{{"amount":1,"reason":"r{i}"}}')
                             for i, p in enumerate(cycle(paid, count))]
                write_requests(reqdir, args.threads, secret, items)
            profiler = None
            if args.profile and mix == args.mixes[0]:
                busiest = max(process_tree(server.pid), key=cpu_ticks)
                profiler = subprocess.Popen(
                    [str(VENV_BIN / "py-spy"), "record", "--pid", str(busiest), "--duration",
                     str(max(1, args.duration - 2)), "--rate", "200", "--nonblocking",
                     "--format", args.profile_format,
                     "-o", str(RESULTS / f"profile-{name}-{mix}.{args.profile_format}")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with Sampler(server.pid) as sampler:
                outcome = run_wrk(base, reqdir, api_key, args.threads, connections, args.duration)
            if profiler is not None:
                profiler.wait()
            outcome["peak_rss_mb"] = round(sampler.peak_rss / 2**20, 1)
            outcome["cpu_percent"] = round(sampler.cpu_percent, 1)
            outcome.update(sampler.extra())
            outcome["server_processes"] = len(sampler.pids)
            outcome["connections"] = connections
            if mix == "pay":
                time.sleep(1.0)  # requests in flight when wrk stopped finish
                outcome["check"] = check_payments(db_url, run_id, reqdir, outcome)
            log(f"   {mix}: {outcome['throughput']:.0f} req/s, p50 {outcome.get('p50_ms')} ms,"
                f" p99 {outcome.get('p99_ms')} ms, non-2xx {outcome['non_2xx']},"
                f" rss {outcome['peak_rss_mb']} MB, cpu {outcome['cpu_percent']} %,"
                f" machine {outcome['machine_busy_percent']} %,"
                f" others {outcome['other_cpu_percent']} %")
            result["runs"][mix] = outcome
    finally:
        stop(server)
        if sink is not None:
            stop(sink)
    RESULTS.mkdir(parents=True, exist_ok=True)
    # a profiled run is slowed by the profiler: keep it out of the table
    out = TMP / f"{name}.profiled.json" if args.profile else RESULTS / f"{name}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    return result


def check_payments(db_url: str, run_id: str, reqdir: Path,
                   outcome: dict[str, Any]) -> dict[str, Any]:
    """Exactly one payment per accepted request. Requests still in flight when wrk stops
    may commit without wrk seeing the response: at most one per connection."""
    accepted = accepted_orders(reqdir)
    rows = query(db_url, f"SELECT order_no, status, payment_no FROM payments "
                         f"WHERE order_no LIKE 'B-{run_id}-%'")
    ledger = query(db_url, "SELECT count(*) FROM ledger_entries")[0][0]
    succeeded_total = query(db_url,
                            "SELECT count(*) FROM payments WHERE status = 'succeeded'")[0][0]
    by_order: dict[str, int] = {}
    for order_no, _, _ in rows:
        by_order[order_no] = by_order.get(order_no, 0) + 1
    accepted_set = set(accepted)
    missing = [o for o in accepted_set if by_order.get(o, 0) != 1]
    extra = [o for o in by_order if o not in accepted_set]
    not_succeeded = [o for o, status, _ in rows if status != "succeeded"]
    ok_count = outcome["requests"] - outcome["non_2xx"]
    check = {
        "accepted_2xx": ok_count,
        "accepted_order_nos_seen": len(accepted),
        "duplicate_accepts": len(accepted) - len(accepted_set),
        "payments_rows": len(rows),
        "accepted_without_exactly_one_row": len(missing),
        "rows_in_flight_at_stop": len(extra),
        "rows_not_succeeded": len(not_succeeded),
        "ledger_rows": ledger,
        "ledger_rows_expected": 2 * succeeded_total,
    }
    check["ok"] = (not missing and check["duplicate_accepts"] == 0
                   and len(accepted) == ok_count
                   and len(extra) <= outcome.get("connections", 10**6)
                   and not not_succeeded and ledger == 2 * succeeded_total)
    return check


# ---------------------------------------------------------------- raw reference


def run_raw(args: argparse.Namespace) -> dict[str, Any]:
    name = "raw-asyncpg" + (f"-{args.tag}" if args.tag else "")
    connections = args.connections or 64
    workdir = TMP / name
    workdir.mkdir(parents=True, exist_ok=True)
    log(f"== {name}: {connections} connections, {args.duration} s")
    asyncio.run(_fresh_postgres())
    port = free_port()
    secret = "raw-reference-secret"  # noqa: S105 - the reference's own test merchant
    server = subprocess.Popen(
        [sys.executable, str(BENCH / "raw_reference.py"), "--port", str(port),
         "--workers", str(args.raw_workers), "--dsn", PG_URL.replace("+asyncpg", ""),
         "--secret", secret, "--init"])
    base = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {"config": name, "workers": args.raw_workers,
                              "connections": connections, "duration_s": args.duration,
                              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              "runs": {}}
    try:
        wait_http(base + "/health/live")
        run_id = f"{int(time.time())}"
        warm = workdir / "warm"
        write_requests(warm, args.threads, secret, payment_items(run_id + "w", 3000))
        run_wrk(base, warm, "key_raw", args.threads, connections, 2)
        analyze(PG_URL)
        reqdir = workdir / "pay"
        write_requests(reqdir, args.threads, secret,
                       payment_items(run_id, args.max_rate * args.duration))
        with Sampler(server.pid) as sampler:
            outcome = run_wrk(base, reqdir, "key_raw", args.threads, connections, args.duration)
        outcome["peak_rss_mb"] = round(sampler.peak_rss / 2**20, 1)
        outcome["cpu_percent"] = round(sampler.cpu_percent, 1)
        outcome.update(sampler.extra())
        time.sleep(1.0)
        rows = query(PG_URL.replace("+asyncpg", ""),
                     f"SELECT count(*) FROM raw_payments WHERE order_no LIKE 'B-{run_id}-%'")
        outcome["check"] = {"payments_rows": rows[0][0],
                            "accepted_2xx": outcome["requests"] - outcome["non_2xx"]}
        log(f"   pay: {outcome['throughput']:.0f} req/s, p50 {outcome.get('p50_ms')} ms,"
            f" p99 {outcome.get('p99_ms')} ms, non-2xx {outcome['non_2xx']}")
        result["runs"]["pay"] = outcome
    finally:
        stop(server)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--obs", choices=list(OBS), default="none")
    parser.add_argument("-c", "--connections", type=int, default=0,
                        help="default: 32 for SQLite, 64 for PostgreSQL")
    parser.add_argument("-d", "--duration", type=int, default=12, help="seconds per run")
    parser.add_argument("-t", "--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--mixes", default="pay,read,refund",
                        help="comma-separated: pay, read, refund")
    parser.add_argument("--max-rate", type=int, default=6000,
                        help="requests pre-signed per second of run (must exceed throughput)")
    parser.add_argument("--matrix", action="store_true",
                        help="every database x workers x observability configuration")
    parser.add_argument("--raw", action="store_true", help="the raw-driver reference")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy record the busiest server process during the pay run")
    parser.add_argument("--profile-format", default="speedscope",
                        choices=["speedscope", "flamegraph", "raw"])
    parser.add_argument("--server-pythonpath", default=None,
                        help="prepended to the server's PYTHONPATH, to try a package without "
                             "installing it (e.g. uvloop and httptools, which uvicorn picks up)")
    parser.add_argument("--tag", default="", help="appended to the configuration's name")
    parser.add_argument("--raw-workers", type=int, default=2)
    args = parser.parse_args()
    args.mixes = [m for m in args.mixes.split(",") if m]
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    if args.raw:
        run_raw(args)
        return
    if args.matrix:
        for db in ("sqlite", "postgres"):
            for workers in (1, 2):
                for obs in MATRIX_OBS:
                    run_config(args, db, workers, obs)
        return
    run_config(args, args.db, args.workers, args.obs)


if __name__ == "__main__":
    main()
