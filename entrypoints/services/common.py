"""What every split-out service shares: health, errors as JSON, the service's lifecycle,
and the token that lets only the gateway in.

The channel service carries card numbers and moves money, the order service writes
orders, the risk service says who may pay: reachable over the network, each would do so
for anyone. With `PAYGATE_SERVICE_TOKEN` set on both sides, every call but the probes
(`/health/live`, `/health/ready`, `/metrics`) must carry `Authorization: Bearer <token>`,
or gets 401.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, route

from application.errors import Unavailable
from domain.errors import DomainError
from entrypoints.readiness import PROBE_METHODS, ReadinessCheck, readiness_report


def json_bytes(body: bytes, status: int = 200) -> Response[bytes]:
    return Response(body, status_code=status, media_type="application/json")


def error(status: int, message: str) -> Response[bytes]:
    return json_bytes(msgspec.json.encode({"error": message}), status)


@route("/health/live", http_method=PROBE_METHODS, tags=["operations"])
async def live() -> Response[bytes]:
    return json_bytes(b'{"status":"ok"}')


def _unavailable(_: Any, exc: Unavailable) -> Response[bytes]:
    return error(503, exc.message)


def _rule(_: Any, exc: DomainError) -> Response[bytes]:
    return error(422, f"{exc.code}: {exc.message}")


_OPEN_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})


def token_check(
    token: str,
) -> Callable[[Request[Any, Any, Any]], Awaitable[Response[bytes] | None]]:
    """A `before_request` hook: 401 unless the call carries the token (probes excepted)."""
    expected = f"Bearer {token}".encode()

    async def check(request: Request[Any, Any, Any]) -> Response[bytes] | None:
        if request.scope["path"] in _OPEN_PATHS:
            return None
        given = request.headers.get("authorization", "").encode()
        if hmac.compare_digest(given, expected):
            return None
        return error(401, "a valid service token is required")

    return check


def service_app(
    handlers: Sequence[Any],
    *,
    on_shutdown: Sequence[Callable[[], Any]] = (),
    metrics_route: Any = None,
    token: str | None = None,
    readiness: Mapping[str, ReadinessCheck] | None = None,
) -> Litestar:
    """`readiness`: what `/health/ready` checks (the order service's database); a service
    with nothing of its own to reach is ready whenever it is live."""
    checks = dict(readiness or {})

    @route("/health/ready", http_method=PROBE_METHODS, tags=["operations"])
    async def ready() -> Response[bytes]:
        report, status = await readiness_report(checks)
        return json_bytes(msgspec.json.encode(report), status)

    extra = [] if metrics_route is None else [metrics_route]
    return Litestar(
        route_handlers=[live, ready, *handlers, *extra],
        before_request=token_check(token) if token else None,
        exception_handlers={Unavailable: _unavailable, DomainError: _rule},
        on_shutdown=list(on_shutdown),
        openapi_config=None,
        debug=False,
        logging_config=None,
    )
