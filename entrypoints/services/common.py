"""What every split-out service shares: health, errors as JSON, the service's lifecycle."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from litestar import Litestar, Response, get

from application.errors import Unavailable
from domain.errors import DomainError


def json_bytes(body: bytes, status: int = 200) -> Response[bytes]:
    return Response(body, status_code=status, media_type="application/json")


def error(status: int, message: str) -> Response[bytes]:
    return json_bytes(msgspec.json.encode({"error": message}), status)


@get("/health/live", tags=["operations"])
async def live() -> Response[bytes]:
    return json_bytes(b'{"status":"ok"}')


def _unavailable(_: Any, exc: Unavailable) -> Response[bytes]:
    return error(503, exc.message)


def _rule(_: Any, exc: DomainError) -> Response[bytes]:
    return error(422, f"{exc.code}: {exc.message}")


def service_app(
    handlers: Sequence[Any],
    *,
    on_shutdown: Sequence[Callable[[], Any]] = (),
    metrics_route: Any = None,
) -> Litestar:
    extra = [] if metrics_route is None else [metrics_route]
    return Litestar(
        route_handlers=[live, *handlers, *extra],
        exception_handlers={Unavailable: _unavailable, DomainError: _rule},
        on_shutdown=list(on_shutdown),
        openapi_config=None,
        debug=False,
        logging_config=None,
    )
