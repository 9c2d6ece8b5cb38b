"""The ASGI entry point that `paygate serve` hands to uvicorn, once per worker process."""

from __future__ import annotations

from litestar import Litestar

from entrypoints.container import build_container
from entrypoints.http.factory import build_http_app
from entrypoints.settings import Settings


def create_app_from_env() -> Litestar:
    return build_http_app(build_container(Settings.from_env()))
