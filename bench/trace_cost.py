"""What tracing costs per request, in CPU time, measured inside one process.

    .venv/bin/python bench/trace_cost.py                     # every setting, ~30 s
    .venv/bin/python bench/trace_cost.py --requests 5000 --repeats 1
    .venv/bin/python bench/trace_cost.py --profile 0.1       # cProfile of one setting
    .venv/bin/python bench/trace_cost.py --floor             # one SDK span at the least

A request here has the shape of `POST /api/v1/payments` without its database and its
business logic: `ObservabilityMiddleware` around a bare ASGI app that awaits a
`CreatePayment` use case, which awaits the risk, order and channel ports. The gateway's
own wiring is copied: with tracing off nothing is wrapped and the middleware gets no
provider (it still makes ids for X-Trace-ID); with tracing on the use case and the ports
get their business spans and the provider is `build_tracer_provider`'s, a
`ParentBased(TraceIdRatioBased)` sampler and a `BatchSpanProcessor` feeding the real
OTLP/HTTP exporter. The exporter sends to `bench/otlp_sink.py`, started as a separate
process so that receiving costs nothing here, while serialising and sending does.

Each setting runs `--requests` requests one after another on one event loop. The clock is
`time.process_time()`: every thread of this process, the batch exporter's included, and
it stops only after `force_flush`, so the spans of a run are exported inside its own
measurement. The settings are interleaved, `--repeats` rounds, and the median is printed.
The driver never lets the span queue fill up (it sleeps, which costs no CPU, while the
exporter catches up): a dropped span would be cost that never got paid.

    off   tracing off (PAYGATE_TRACING=off): the baseline
    0     sampler ratio 0: every span is unsampled
    0.1   ratio 0.1, the production setting
    1.0   every request sampled: 5 spans exported per request

Results, 2 cores shared with other work (so `off` alone moves by a few µs), Python 3.11,
OpenTelemetry SDK 1.45; µs of CPU per request, medians of 3 x 20,000 requests, two
separate invocations each, overhead = setting minus `off`:

    setting   before: total  overhead        after: total  overhead
    off             15-16                          12-16
    0               64-69     +48 / +54            20-24     +8 / +8
    0.1            108-123    +93 / +107           53-56    +41 / +40
    1.0            554-606   +539 / +589          353-374  +341 / +358

"before" is observability/ as it was (the same script, with the SDK's exporter); "after":
no business span under an unsampled parent, attributes set once per span, and the OTLP
encoder writing wire bytes (about 10 µs a span instead of 35). What is left at 100 % is the
SDK's own span bookkeeping on the event loop and encoding plus HTTP on the exporter's thread.

These microseconds are the stack alone, with hot caches: in the gateway the same spans
cost 2.5-3x as much CPU (docs/benchmarks.md, "The targets"), while the instruction counts
agree (callgrind: 1.74 M per request here at 1.0, +1.64 M per payment in the gateway).
Use this to compare versions of the tracing code, not to predict the gateway's overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import itertools
import pstats
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import (
    encode_spans as sdk_encode_spans,
)
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's observability, not the one installed

from observability.asgi import ObservabilityMiddleware  # noqa: E402
from observability.decorators import traced_create_payment  # noqa: E402
from observability.otlp_encoding import encode_spans  # noqa: E402
from observability.ports import traced_channel, traced_order, traced_risk  # noqa: E402
from observability.tracing import (  # noqa: E402
    TracingSettings,
    build_tracer_provider,
    otlp_exporter,
)

SETTINGS: dict[str, float | None] = {"off": None, "0": 0.0, "0.1": 0.1, "1.0": 1.0}
QUEUE_HIGH_WATER = 1024
"""Spans waiting in the batch processor's queue (2048 places) before the driver waits."""


# -- a payment's shape: what the span attributes are read from --------------------------
class Status(StrEnum):
    SUCCEEDED = "succeeded"
    APPROVE = "approve"


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class Command:
    merchant_id: str
    order_no: str
    amount: Money
    channel: str
    card_number: str


@dataclass(frozen=True, slots=True)
class RiskDecision:
    verdict: Status
    score: int


@dataclass(frozen=True, slots=True)
class PortRequest:
    merchant_id: str
    payment_no: str
    order_no: str
    amount: Money


@dataclass(frozen=True, slots=True)
class ChargeResult:
    outcome: Status
    reference: str


@dataclass(frozen=True, slots=True)
class Payment:
    payment_no: str
    merchant_id: str
    order_no: str
    amount: Money
    channel: str
    status: Status
    risk: RiskDecision


class Risk:
    async def assess(self, request: PortRequest) -> RiskDecision:
        return RiskDecision(Status.APPROVE, 12)


class Orders:
    async def create_order(self, request: PortRequest) -> str:
        return "ord_1"


class Channel:
    name = "sandbox"

    async def charge(self, request: PortRequest) -> ChargeResult:
        return ChargeResult(Status.SUCCEEDED, "ch_1")

    async def refund(self, request: object) -> ChargeResult:
        return ChargeResult(Status.SUCCEEDED, "re_1")


@dataclass(frozen=True, slots=True)
class CreatePayment:
    risk: Any
    orders: Any
    channel: Any

    async def __call__(self, command: Command) -> Payment:
        payment_no = f"pay_{command.order_no}"
        request = PortRequest(command.merchant_id, payment_no, command.order_no, command.amount)
        decision = await self.risk.assess(request)
        await self.orders.create_order(request)
        await self.channel.charge(request)
        return Payment(payment_no, command.merchant_id, command.order_no, command.amount,
                       command.channel, Status.SUCCEEDED, decision)


def payment_app(create_payment: Callable[[Command], Any]) -> Any:
    """The ASGI app inside the middleware: reads the body, pays, answers 201. Each payment
    has its own order_no and payment_no, as in the gateway (the exporter sees new values)."""
    orders = itertools.count()
    body = b'{"payment_no":"pay_1","status":"succeeded"}'
    start = {"type": "http.response.start", "status": 201,
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())]}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        command = Command("mer_1", f"ORDER-{next(orders)}", Money(4200, "USD"), "sandbox",
                          "4242424242424242")
        await create_payment(command)
        scope["path_template"] = "/api/v1/payments"  # what Litestar's router leaves
        await send(start)
        await send({"type": "http.response.body", "body": body})

    return app


# -- the settings --------------------------------------------------------------------------
class CountingExporter(SpanExporter):
    """The OTLP exporter, counting what it was handed (to check that nothing was lost)."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner, self.spans = inner, 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return self.inner.export(spans)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class EndedSpans(SpanProcessor):
    """Counts the sampled spans ended, through the SDK's public span-processor interface
    (a processor is told of every span; the batch processor queues the sampled ones)."""

    def __init__(self) -> None:
        self.spans = 0

    def on_end(self, span: ReadableSpan) -> None:
        if span.context.trace_flags.sampled:
            self.spans += 1


@dataclass
class Gateway:
    app: Any
    provider: TracerProvider | None = None
    exporter: CountingExporter | None = None
    ended: EndedSpans | None = None

    def queued(self) -> int:
        """Spans ended and not yet handed to the exporter: waiting in the batch processor."""
        if self.ended is None or self.exporter is None:
            return 0
        return self.ended.spans - self.exporter.spans

    def flush(self) -> None:
        if self.provider is not None:
            self.provider.force_flush()

    def close(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


def build_gateway(ratio: float | None, endpoint: str) -> Gateway:
    """Wired as `entrypoints/telemetry.py` wires the gateway."""
    risk, orders, channel = Risk(), Orders(), Channel()
    if ratio is None:
        return Gateway(ObservabilityMiddleware(payment_app(CreatePayment(risk, orders, channel))))
    exporter = CountingExporter(otlp_exporter(endpoint))
    provider = build_tracer_provider(TracingSettings(rate=ratio), exporter)
    assert isinstance(provider, TracerProvider)
    tracer = provider.get_tracer("paygate")
    use_case = traced_create_payment(CreatePayment(
        traced_risk(risk, tracer), traced_order(orders, tracer), traced_channel(channel, tracer)),
        tracer)
    app = ObservabilityMiddleware(payment_app(use_case), tracer_provider=provider)
    ended = EndedSpans()
    provider.add_span_processor(ended)
    return Gateway(app, provider, exporter, ended)


# -- driving it ------------------------------------------------------------------------------
SCOPE = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
    "scheme": "http", "path": "/api/v1/payments", "raw_path": b"/api/v1/payments",
    "query_string": b"", "root_path": "", "server": ("bench", 80),
    "client": ("127.0.0.1", 5000),
    "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                (b"content-length", b"120"), (b"x-api-key", b"mer_1"),
                (b"x-signature", b"0" * 64), (b"x-timestamp", b"1700000000")],
}
REQUEST = {"type": "http.request", "body": b"{" + b" " * 118 + b"}", "more_body": False}


async def drive(gateway: Gateway, requests: int) -> None:
    async def receive() -> dict[str, Any]:
        return REQUEST

    async def send(message: dict[str, Any]) -> None:
        return None

    app = gateway.app
    for done in range(requests):
        await app(dict(SCOPE), receive, send)
        if done % 64 == 0:
            wait_for_exporter(gateway)


def wait_for_exporter(gateway: Gateway) -> None:
    """Block the loop (on purpose: sleeping costs no CPU) while the span queue is long."""
    while gateway.queued() > QUEUE_HIGH_WATER:
        time.sleep(0.0005)


@dataclass(frozen=True, slots=True)
class Run:
    """One setting's run, per request: µs of CPU in all (`total`) and on the event loop's
    thread while serving (`loop`; the rest is mostly the exporter), and spans exported."""

    total: float
    loop: float
    spans: float


def run_once(ratio: float | None, endpoint: str, requests: int) -> Run:
    gateway = build_gateway(ratio, endpoint)
    asyncio.run(drive(gateway, 200))  # warm up: imports, first connection to the sink
    gateway.flush()
    exported_before = gateway.exporter.spans if gateway.exporter else 0
    gc.collect()
    started, loop_started = time.process_time(), time.thread_time()
    asyncio.run(drive(gateway, requests))
    loop = time.thread_time() - loop_started
    gateway.flush()  # the spans still queued are exported (on this thread) and counted
    total = time.process_time() - started
    exported = (gateway.exporter.spans if gateway.exporter else 0) - exported_before
    gateway.close()
    return Run(total / requests * 1e6, loop / requests * 1e6, exported / requests)


# -- the sink ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def otlp_sink() -> Iterator[str]:
    """bench/otlp_sink.py in its own process; yields its traces URL."""
    port = free_port()
    sink = subprocess.Popen([sys.executable, str(ROOT / "bench" / "otlp_sink.py"), str(port)])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v1/traces"
    finally:
        sink.terminate()
        sink.wait(5)


# -- the command ---------------------------------------------------------------------------------
def measure(endpoint: str, names: Sequence[str], requests: int, repeats: int) -> None:
    runs: dict[str, list[Run]] = {name: [] for name in names}
    for round_no in range(repeats):
        for name in names:
            runs[name].append(run_once(SETTINGS[name], endpoint, requests))
        print(f"round {round_no + 1}/{repeats}: " + ", ".join(
            f"{name} {runs[name][-1].total:.1f}" for name in names), file=sys.stderr, flush=True)
    medians = {name: statistics.median(run.total for run in runs[name]) for name in names}
    base = medians.get("off")
    print(f"µs of CPU per request, median of {repeats} runs of {requests} requests")
    print(f"{'setting':>8} {'total':>7} {'overhead':>9} {'on loop':>8} {'spans/req':>10}   runs")
    for name in names:
        overhead = "" if name == "off" or base is None else f"{medians[name] - base:+.1f}"
        loop = statistics.median(run.loop for run in runs[name])
        print(f"{name:>8} {medians[name]:7.1f} {overhead:>9} {loop:8.1f} "
              f"{runs[name][-1].spans:10.2f}   "
              + " ".join(f"{run.total:.1f}" for run in runs[name]))


def profile(endpoint: str, setting: str, requests: int, top: int) -> None:
    """cProfile of one setting's run, by own time; the export thread is not profiled."""
    gateway = build_gateway(SETTINGS[setting], endpoint)
    asyncio.run(drive(gateway, 200))
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(drive(gateway, requests))
    profiler.disable()
    gateway.close()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(top)


class Keeping(SpanExporter):
    """Keeps what it is handed, so the last run's spans can be encoded afterwards."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


FLOOR_ATTRIBUTES = {"merchant_id": "mer_1", "payment_no": "pay_1", "order_no": "ORDER-1",
                    "channel": "sandbox", "amount": 4200, "currency": "USD",
                    "status": "succeeded"}


def per_span(work: Callable[[], None], spans: int) -> float:
    """µs of this thread's CPU per span, the median of three runs of `work`, without the
    garbage collector (the gateway's share of it is measured apart: ADR 0008 #10)."""
    times = []
    for _ in range(3):
        gc.collect()
        gc.disable()
        try:
            started = time.thread_time()
            work()
            times.append((time.thread_time() - started) / spans * 1e6)
        finally:
            gc.enable()
    return statistics.median(times)


def floor(spans: int) -> None:
    """What one sampled span costs at least with the SDK, whoever calls it: started and ended
    (the batch processor queues it), with a business span's seven attributes, and encoded
    for OTLP by paygate's encoder and by the SDK's. No HTTP, no context to attach, no
    wrapper of paygate's around the call."""
    kept = Keeping()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(kept, max_queue_size=spans + 1))
    tracer = provider.get_tracer("paygate")

    def bare() -> None:
        kept.spans.clear()
        for _ in range(spans):
            tracer.start_span("RiskCheck").end()
        provider.force_flush()

    def attributed() -> None:
        kept.spans.clear()
        for _ in range(spans):
            span = tracer.start_span("RiskCheck")
            span.set_attributes(FLOOR_ATTRIBUTES)
            span.end()
        provider.force_flush()

    results = {"start + end": per_span(bare, spans),
               "start + 7 attributes + end": per_span(attributed, spans)}
    finished = list(kept.spans)  # the last attributed run's
    batches = [finished[at:at + 512] for at in range(0, len(finished), 512)]
    results["OTLP encoding, paygate's encoder"] = per_span(
        lambda: [encode_spans(batch) for batch in batches], len(finished))
    results["OTLP encoding, the SDK's"] = per_span(
        lambda: [sdk_encode_spans(batch).SerializeToString() for batch in batches],
        len(finished))
    provider.shutdown()
    print(f"µs of CPU per span, median of 3 x {spans:,} spans")
    for name, value in results.items():
        print(f"{name:>34} {value:6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--profile", choices=list(SETTINGS), help="profile this setting only")
    parser.add_argument("--top", type=int, default=35, help="functions listed by --profile")
    parser.add_argument("--floor", action="store_true",
                        help="only what one sampled span costs at least with the SDK")
    args = parser.parse_args()
    if args.floor:
        floor(args.requests)
        return
    with otlp_sink() as endpoint:
        if args.profile:
            profile(endpoint, args.profile, args.requests, args.top)
        else:
            measure(endpoint, args.settings, args.requests, args.repeats)


if __name__ == "__main__":
    main()
