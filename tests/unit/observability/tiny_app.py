"""A tiny Litestar app for the middleware tests: a templated route, errors, /metrics."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.params import FromPath

from observability.asgi_types import ASGIApp
from observability.decorators import traced_create_payment
from observability.litestar import metrics_handler
from observability.metrics import Metrics
from observability.trace_ids import current_trace_id
from tests.unit.observability.builders import StubUseCase, payment_command
from tests.unit.observability.span_capture import Spans

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Refused(Exception):
    """What a use case raises for a broken rule; the app maps it to an error body."""


def tiny_app(metrics: Metrics, spans: Spans) -> Litestar:
    @get("/api/v1/payments/{payment_no:str}")
    async def show(payment_no: FromPath[str]) -> dict[str, str]:
        await traced_create_payment(StubUseCase("ok"), spans.tracer)(payment_command())
        return {"payment_no": payment_no}

    @post("/api/v1/echo", status_code=201)
    async def echo(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @get("/boom")
    async def boom() -> None:
        raise RuntimeError("database exploded")

    @get("/refused")
    async def refused() -> None:
        raise Refused("amount_exceeded")

    def error_body(_: Request, exc: Refused) -> Response[dict[str, object]]:
        return Response({"error": {"code": str(exc), "trace_id": current_trace_id()}},
                        status_code=422, media_type=MediaType.JSON)

    return Litestar([show, echo, boom, refused, metrics_handler(metrics)], logging_config=None,
                    exception_handlers={Refused: error_body})


async def http_client(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://paygate.test") as http:
        yield http


def http_count(metrics: Metrics, path: str, status: str, method: str = "GET") -> float | None:
    return metrics.registry.get_sample_value(
        "payment_gateway_http_requests_total", {"method": method, "path": path, "status": status})
