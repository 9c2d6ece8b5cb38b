"""The ASGI entry point that `paygate serve` hands to uvicorn, once per worker process."""

from __future__ import annotations

import gc
from typing import Any

from entrypoints.container import build_container
from entrypoints.http.factory import build_http_app
from entrypoints.settings import Settings
from entrypoints.telemetry import configure_process_logging

YOUNG_GENERATION_THRESHOLD = 7_000
"""Container allocations (net of frees) that set off a young collection; Python's is 700."""


def tune_garbage_collector() -> None:
    """Freeze what the process built at startup, and collect the young generation less often.

    The modules, the container and the app are objects that live as long as the process,
    and every full collection walked all of them again (~75 ms each); a request's own
    objects, spans above all, are mostly freed by reference counting within the request,
    yet at Python's threshold of 700 they set off a young collection every few requests.
    Measured with `gc.callbacks` in `bench/inprocess.py` (PostgreSQL, tracing at 100 %,
    4,000 payments): 96 µs of collector CPU per payment before, 8 µs after; at 10 %, 36
    and 2.4 µs; with Prometheus alone, 5 and 0.2 µs (docs/benchmarks.md). Frozen objects
    are still freed when their last reference goes; cyclic garbage waits a little longer
    for its collection.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)


def create_app_from_env() -> Any:
    settings = Settings.from_env()
    configure_process_logging(settings)
    app = build_http_app(build_container(settings), owns_process=True)
    tune_garbage_collector()
    return app
