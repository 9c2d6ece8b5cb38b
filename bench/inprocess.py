"""CPU per payment of the gateway itself, without an HTTP server or a load generator.

The wrk runs of `bench/run.py` share two cores between the load generator, PostgreSQL and
the gateway, so a 10 % change in the gateway's own cost hides in their noise. This drives
the real ASGI application (the same `create_app_from_env` that `paygate serve` runs, with
its container, database, metrics and tracing) in one process: `--concurrency` tasks post
signed `POST /api/v1/payments` straight into the app, and `time.process_time()` over the
run gives the gateway's CPU per payment. On PostgreSQL it also reports the server's CPU per
payment (every `postgres` process on the machine, from /proc).

    .venv/bin/python bench/inprocess.py --db postgres --obs prom+trace10 -n 3000
    .venv/bin/python bench/inprocess.py --db sqlite --obs none --profile   # + cProfile
    .venv/bin/python bench/inprocess.py --db sqlite --obs none --set PAYGATE_LOG_LEVEL=INFO

`--profile` prints the functions with the most own time and the share per package.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # bench/run.py: database setup and signing

Message = dict[str, Any]
ERRORS: list[str] = []  # the first few error bodies, to show what went wrong


class Lifespan:
    """The ASGI lifespan protocol, as a server speaks it: startup, then later shutdown."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _say(self, event: str) -> None:
        await self._inbox.put({"type": f"lifespan.{event}"})
        answer = await self._outbox.get()
        if answer["type"] != f"lifespan.{event}.complete":
            raise RuntimeError(f"lifespan {event} failed: {answer}")

    async def startup(self) -> None:
        self._task = asyncio.create_task(self._app(
            {"type": "lifespan", "asgi": {"version": "3.0"}}, self._inbox.get, self._outbox.put))
        await self._say("startup")

    async def shutdown(self) -> None:
        await self._say("shutdown")
        if self._task is not None:
            await self._task


async def post(app: Any, api_key: str, secret: bytes, path: str, body: bytes) -> int:
    """The answer's status; its X-Trace-ID goes to TRACE_IDS."""
    stamp = str(int(time.time()))
    signature = bench.sign(secret, stamp, "POST", path, body)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
        "headers": [
            (b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()), (b"x-api-key", api_key.encode()),
            (b"x-timestamp", stamp.encode()), (b"x-signature", signature.encode()),
        ],
    }
    delivered = False
    status = 0

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            await asyncio.Event().wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            TRACE_IDS.extend(value for name, value in message.get("headers", ())
                             if name == b"x-trace-id")
        elif status >= 300 and len(ERRORS) < 5:
            ERRORS.append(message.get("body", b"").decode(errors="replace"))

    await app(scope, receive, send)
    return status


async def drive(app: Any, merchant: dict[str, str], count: int, concurrency: int,
                run_id: str) -> tuple[float, float, float, Counter[int]]:
    bodies = [item[2].encode() for item in bench.payment_items(run_id, count)]
    secret, api_key = merchant["api_secret"].encode(), merchant["api_key"]
    statuses: Counter[int] = Counter()
    queue = iter(bodies)

    async def worker() -> None:
        for body in queue:
            statuses[await post(app, api_key, secret, "/api/v1/payments", body)] += 1

    cpu, wall, database = time.process_time(), time.perf_counter(), bench.postgres_ticks()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    database = (bench.postgres_ticks() - database) / os.sysconf("SC_CLK_TCK")
    return time.process_time() - cpu, time.perf_counter() - wall, database, statuses


TRACE_IDS: list[bytes] = []  # of the answers, in order, as sent (32 hex digits)


def package_of(filename: str) -> str:
    match = re.search(r"site-packages/([^/]+)", filename)
    if match:
        return match.group(1).removesuffix(".py")
    for layer in ("domain", "application", "adapters", "entrypoints", "observability"):
        if f"/{layer}/" in filename:
            return f"paygate {layer}"
    return "stdlib/builtins" if filename.startswith(("~", "<")) or "python3" in filename \
        else Path(filename).name


def report_profile(profile: cProfile.Profile, top: int) -> None:
    stats = pstats.Stats(profile)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    by_package: Counter[str] = Counter()
    for (filename, _, _), row in stats.stats.items():  # type: ignore[attr-defined]
        by_package[package_of(filename)] += row[2]
    print(f"\nown time by package (of {total:.2f} s profiled):")
    for package, seconds in by_package.most_common(20):
        print(f"  {seconds / total:6.1%}  {package}")
    print()
    stats.sort_stats("tottime").print_stats(top)


def prepare(args: argparse.Namespace) -> tuple[dict[str, str], dict[str, str], Any]:
    """A fresh database with a merchant, and the gateway's environment (as bench/run.py)."""
    workdir = bench.TMP / f"inprocess-{args.db}-{args.obs}"
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = bench.fresh_database(args.db, workdir)
    sink = sink_port = None
    if bench.OBS[args.obs][1]:
        sink_port = bench.free_port()
        sink = subprocess.Popen([sys.executable, str(bench.BENCH / "otlp_sink.py"),
                                 str(sink_port)])
        bench.wait_http(f"http://127.0.0.1:{sink_port}/health")
    env = bench.server_env(db_url, workdir, args.obs, sink_port)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # one process: the plain registry
    env.update(setting.split("=", 1) for setting in args.set)
    subprocess.run([bench.PAYGATE, "db", "upgrade"], env=env, check=True, capture_output=True)
    merchant = json.loads(subprocess.run(
        [bench.PAYGATE, "merchants", "create", "--name", "Bench", "--json",
         "--operator", "bootstrap"],
        env=env, check=True, capture_output=True, text=True).stdout)
    return env, merchant, sink


async def measure(args: argparse.Namespace, env: dict[str, str],
                  merchant: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(env)
    from entrypoints.http.asgi import create_app_from_env

    app = create_app_from_env()
    lifespan = Lifespan(app)
    await lifespan.startup()
    try:
        await drive(app, merchant, args.warmup, args.concurrency, "warm")
        await asyncio.to_thread(bench.analyze, env["PAYGATE_DATABASE_URL"])
        profile = cProfile.Profile() if args.profile else None
        if profile is not None:
            profile.enable()
        TRACE_IDS.clear()
        cpu, wall, database, statuses = await drive(app, merchant, args.count, args.concurrency,
                                          str(int(time.time())))
        if profile is not None:
            profile.disable()
    finally:
        await lifespan.shutdown()
    print(f"{args.db} {args.obs}: {args.count} payments, {statuses.most_common()} statuses, "
          f"{cpu / args.count * 1e6:.0f} us CPU per payment, {args.count / wall:.0f}/s "
          f"({args.concurrency} concurrent, one process)")
    if args.db == "postgres":
        print(f"PostgreSQL: {database / args.count * 1e6:.0f} us CPU per payment "
              "(every postgres process on the machine)")
    for body in ERRORS:
        print("error:", body)
    if profile is not None:
        report_profile(profile, args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--obs", choices=list(bench.OBS), default="prom+trace10")
    parser.add_argument("-n", "--count", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--trace-ids", metavar="FILE",
                        help="write the measured answers' X-Trace-IDs there, one a line")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--set", action="append", default=[], metavar="PAYGATE_X=VALUE",
                        help="a setting for the gateway, over the benchmark's own")
    args = parser.parse_args()
    env, merchant, sink = prepare(args)
    try:
        try:
            import uvloop
        except ImportError:
            asyncio.run(measure(args, env, merchant))
        else:
            uvloop.run(measure(args, env, merchant))
    finally:
        if sink is not None:
            sink.terminate()
    if args.trace_ids is not None:  # the reader counts the sampled ones, not this process
        Path(args.trace_ids).write_bytes(b"\n".join(TRACE_IDS))


if __name__ == "__main__":
    main()
