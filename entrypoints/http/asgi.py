"""The ASGI entry point that `paygate serve` hands to uvicorn, once per worker process."""

from __future__ import annotations

from typing import Any

from entrypoints.container import build_container
from entrypoints.http.factory import build_http_app
from entrypoints.settings import Settings
from entrypoints.telemetry import configure_process_logging


def create_app_from_env() -> Any:
    settings = Settings.from_env()
    configure_process_logging(settings)
    return build_http_app(build_container(settings), owns_process=True)
