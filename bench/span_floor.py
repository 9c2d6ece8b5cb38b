"""What the OpenTelemetry SDK itself costs for one sampled payment's spans, with nothing of
paygate's around them: the floor under what tracing a payment can cost.

A sampled `POST /api/v1/payments` makes five spans (the server span, `CreatePayment` and
its children `RiskCheck`, `CreateOrder` and `ChannelPayment`) with the attributes the
gateway gives them (21 values in all), each made current while it runs. This makes exactly
those through the provider `build_tracer_provider` builds (the gateway's sampler and id
generator, a `BatchSpanProcessor`), with an exporter that does nothing, or that only runs
paygate's OTLP encoder (`--encode`). No middleware, no business-span wrapper, no HTTP.

Count it with callgrind, twice, and take the difference per payment:

    for n in 200 1200; do PYTHONHASHSEED=0 valgrind --tool=callgrind \\
        --callgrind-out-file=/dev/null .venv/bin/python bench/span_floor.py -n $n \\
        2>&1 | grep Collected; done

(docs/benchmarks.md, "Tracing at 10 %: what is left, split").
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Tracer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from observability.otlp_encoding import encode_spans
from observability.tracing import TracingSettings, build_tracer_provider

MERCHANT = "mch_800663e51f39cad4488e41da"
SERVER_ATTRIBUTES = {"http.request.method": "POST", "http.response.status_code": 201,
                     "url.scheme": "http", "url.path": "/api/v1/payments",
                     "http.route": "/api/v1/payments"}


class Exporter(SpanExporter):
    """Does nothing with a batch, or only encodes it as paygate's exporter would."""

    def __init__(self, encode: bool) -> None:
        self.encode = encode

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.encode:
            encode_spans(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def child(tracer: Tracer, name: str, attributes: Mapping[str, str | int]) -> None:
    span = tracer.start_span(name)
    token = otel_context.attach(trace.set_span_in_context(span))
    span.set_attributes(attributes)
    otel_context.detach(token)
    span.end()


def payment(tracer: Tracer, number: int) -> None:
    """One sampled payment's five spans, as the gateway shapes them (tests/integration/
    telemetry/test_traces.py shows the tree)."""
    payment_no = f"pay_{number:024x}"
    server = tracer.start_span("POST", kind=SpanKind.SERVER)
    server_token = otel_context.attach(trace.set_span_in_context(server))
    create = tracer.start_span("CreatePayment")
    create_token = otel_context.attach(trace.set_span_in_context(create))
    child(tracer, "RiskCheck", {"payment_no": payment_no, "risk.decision": "approve",
                                "risk.score": 10})
    child(tracer, "CreateOrder", {"payment_no": payment_no})
    child(tracer, "ChannelPayment", {"payment_no": payment_no, "channel.name": "sandbox",
                                     "outcome": "succeeded"})
    create.set_attributes({"merchant_id": MERCHANT, "payment_no": payment_no,
                           "order_no": f"B-{number}", "channel": "sandbox", "amount": 100000,
                           "currency": "USD", "status": "succeeded",
                           "risk.decision": "approve", "risk.score": 10})
    otel_context.detach(create_token)
    create.end()
    server.update_name("POST /api/v1/payments")
    server.set_attributes(SERVER_ATTRIBUTES)
    otel_context.detach(server_token)
    server.end()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--payments", type=int, default=1000)
    parser.add_argument("--encode", action="store_true",
                        help="the exporter runs paygate's OTLP encoder on each batch")
    args = parser.parse_args()
    provider = build_tracer_provider(TracingSettings(rate=1.0), Exporter(args.encode))
    assert isinstance(provider, TracerProvider)
    tracer = provider.get_tracer("paygate")
    for number in range(1, args.payments + 1):
        payment(tracer, number)
        if number % 300 == 0:  # let the batch thread keep up: a dropped span costs nothing
            time.sleep(0.01)
    provider.force_flush()
    provider.shutdown()


if __name__ == "__main__":
    main()
