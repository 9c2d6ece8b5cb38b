"""The process-wide provider: installed once per process, flushed at shutdown.

The API takes one global provider per process and offers no public way to unset it, so
each case runs in a fresh interpreter of its own."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def in_fresh_process(code: str) -> dict[str, object]:
    """Run `code` in a new interpreter; it prints one JSON object, returned here."""
    preamble = """
        import json
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
            InMemorySpanExporter,
        )
        from observability.tracing import TracingSettings, configure_tracing, shutdown_tracing
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(preamble) + textwrap.dedent(code)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return answer


def test_configure_installs_one_provider_and_shutdown_flushes_it() -> None:
    seen = in_fresh_process("""
        exporter = InMemorySpanExporter()
        provider = configure_tracing(TracingSettings(service_name="paygate-test"), exporter)
        again = configure_tracing(TracingSettings(service_name="other"), exporter)
        installed = trace.get_tracer_provider()
        with trace.get_tracer("paygate").start_as_current_span("CreatePayment"):
            pass
        shutdown_tracing()
        spans = exporter.get_finished_spans()
        print(json.dumps({
            "same": again is provider, "installed": installed is provider,
            "names": [span.name for span in spans],
            "service": [span.resource.attributes["service.name"] for span in spans],
        }))
    """)
    assert seen == {"same": True, "installed": True, "names": ["CreatePayment"],
                    "service": ["paygate-test"]}


def test_a_provider_inherited_from_the_parent_process_is_kept() -> None:
    seen = in_fresh_process("""
        inherited = TracerProvider()
        trace.set_tracer_provider(inherited)
        kept = configure_tracing(TracingSettings(), InMemorySpanExporter()) is inherited
        shutdown_tracing()
        print(json.dumps({"kept": kept}))
    """)
    assert seen == {"kept": True}


def test_tracing_off_installs_the_no_op_provider() -> None:
    seen = in_fresh_process("""
        provider = configure_tracing(TracingSettings(enabled=False))
        installed = trace.get_tracer_provider()
        shutdown_tracing()
        print(json.dumps({"no_op": isinstance(provider, trace.NoOpTracerProvider),
                          "installed": installed is provider}))
    """)
    assert seen == {"no_op": True, "installed": True}
