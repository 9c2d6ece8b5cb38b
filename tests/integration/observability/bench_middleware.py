"""What the observability middleware costs per request (not collected by pytest).

    python tests/integration/observability/bench_middleware.py            # direct ASGI calls
    python tests/integration/observability/bench_middleware.py --http     # uvicorn, keep-alive

Direct mode calls the ASGI app in a loop with no server or socket, so the difference
between rows is the middleware alone; it counts CPU time, not wall time. HTTP mode serves
each variant with one uvicorn worker in a subprocess, drives it with `wrk` (16 keep-alive
connections) and reports requests per CPU-second of the server process, which a shared
machine disturbs far less than requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from litestar import Litestar, get
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from observability.asgi import ObservabilityMiddleware
from observability.metrics import Metrics
from observability.tracing import TracingSettings, build_tracer_provider


class NullExporter(SpanExporter):
    """Spans are batched and serialised nowhere: the cost measured is the SDK's, not I/O."""

    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS


@get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}


def variants() -> dict[str, Callable[[], Any]]:
    def app() -> Litestar:
        return Litestar([ping], logging_config=None)

    def sdk(rate: float) -> TracerProvider:
        return build_tracer_provider(TracingSettings(rate=rate), exporter=NullExporter())

    def off() -> Any:
        return build_tracer_provider(TracingSettings(enabled=False))

    return {
        "no middleware": app,
        "tracing off, no metrics": lambda: ObservabilityMiddleware(
            app(), metrics=None, tracer_provider=off()),
        "tracing off + metrics": lambda: ObservabilityMiddleware(
            app(), metrics=Metrics(), tracer_provider=off()),
        "rate 0 + metrics": lambda: ObservabilityMiddleware(
            app(), metrics=Metrics(), tracer_provider=sdk(0.0)),
        "rate 1 + metrics": lambda: ObservabilityMiddleware(
            app(), metrics=Metrics(), tracer_provider=sdk(1.0)),
    }


async def direct(apps: dict[str, Any], requests: int, rounds: int = 7) -> dict[str, float]:
    """Best of `rounds` per variant, the variants interleaved so that noise from other
    processes on the machine hits them all alike."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": "/ping", "raw_path": b"/ping", "query_string": b"",
             "root_path": "", "headers": [(b"host", b"bench"), (b"accept", b"*/*")],
             "server": ("bench", 80), "client": ("127.0.0.1", 5000)}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    best = dict.fromkeys(apps, 0.0)
    for _ in range(rounds):
        for name, app in apps.items():
            started = time.thread_time()  # CPU time: other processes do not count
            for _ in range(requests):
                await app(dict(scope), receive, send)
            best[name] = max(best[name], requests / (time.thread_time() - started))
    return best


async def hammer(port: int, seconds: float, connections: int) -> float:
    request = b"GET /ping HTTP/1.1\r\nHost: bench\r\n\r\n"
    done = 0
    deadline = time.perf_counter() + seconds

    async def one() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            done += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    return done / (time.perf_counter() - started)


def serve_variant(name: str, port: int) -> None:
    import uvicorn

    uvicorn.run(variants()[name](), host="127.0.0.1", port=port, log_level="warning",
                access_log=False, lifespan="off")


def start_server(name: str) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
            f"import bench_middleware as b; b.serve_variant({name!r}, {port})")
    server = subprocess.Popen([sys.executable, "-c", code])
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return server, port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(port: int, seconds: float) -> int:
    """Requests answered: wrk when installed (a C load generator), else the asyncio client."""
    if shutil.which("wrk") is None:
        return round(asyncio.run(hammer(port, seconds, 16)) * seconds)
    out = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{max(1, round(seconds))}s", f"http://127.0.0.1:{port}/ping"],
        capture_output=True, text=True, check=True).stdout
    return int(out.split(" requests in ")[0].split()[-1])


def over_http(seconds: float, rounds: int = 3) -> dict[str, float]:
    """One uvicorn worker per variant, all started up front; rounds interleave them.

    The figure is the server's CPU time per request (so a busy machine, or the load
    generator competing for the cores, changes the rate but hardly the cost), turned
    into requests per CPU-second.
    """
    servers = {name: start_server(name) for name in variants()}
    try:
        for _, port in servers.values():
            load(port, 1.0)  # warm-up
        best = dict.fromkeys(servers, 0.0)
        for _ in range(rounds):
            for name, (server, port) in servers.items():
                before = cpu_seconds(server.pid)
                answered = load(port, seconds)
                best[name] = max(best[name], answered / (cpu_seconds(server.pid) - before))
        return best
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--requests", type=int, default=3_000, help="per round, direct mode")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=3.0, help="per round, http mode")
    args = parser.parse_args()
    if args.http:
        rates = over_http(args.seconds, args.rounds)
    else:
        apps = {name: build() for name, build in variants().items()}
        rates = asyncio.run(direct(apps, args.requests, args.rounds))
    baseline = rates["no middleware"]
    unit = "req/CPU-s"
    for name, rate in rates.items():
        per_request = 1e6 / rate - 1e6 / baseline
        print(f"{name:26s} {rate:9,.0f} {unit:9s} {per_request:+7.1f} µs/request"
              f"  ({rate / baseline - 1:+.1%})")


if __name__ == "__main__":
    main()
