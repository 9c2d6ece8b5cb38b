"""The ASGI entry point that `paygate serve` hands to uvicorn, once per worker process."""

from __future__ import annotations

import sys
from typing import Any

from adapters.persistence import is_sqlite
from entrypoints.container import build_container
from entrypoints.http.factory import build_http_app
from entrypoints.settings import Settings
from entrypoints.telemetry import configure_process_logging

SQLITE_SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL while another waits for it (Python's default: 0.005).

aiosqlite runs every statement on its own thread, which must take the GIL back from the
busy event loop for each one; at the default it can wait up to 5 ms per statement while
a write unit holds SQLite's only write lock. At 0.5 ms the SQLite benchmark took 13-21 %
more payments (docs/benchmarks.md)."""


def tune_interpreter(settings: Settings) -> None:
    if is_sqlite(settings.database_url):
        sys.setswitchinterval(SQLITE_SWITCH_INTERVAL)


def create_app_from_env() -> Any:
    settings = Settings.from_env()
    configure_process_logging(settings)
    tune_interpreter(settings)
    return build_http_app(build_container(settings), owns_process=True)
