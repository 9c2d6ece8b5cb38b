"""Channel notifications and the operational routes: health."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post, route
from litestar.params import FromPath

from application.errors import NotFound
from entrypoints.http.errors import ERROR_RESPONSES
from entrypoints.http.responses import json_response
from entrypoints.http.services import ApiServices
from entrypoints.readiness import PROBE_METHODS, readiness_report

AnyRequest = Request[Any, Any, Any]


def notification_handler(services: ApiServices) -> Any:
    @post(
        "/api/v1/channels/{channel:str}/notifications",
        status_code=200,
        tags=["channels"],
        summary="Receive a channel's notification (signed by the channel)",
        responses=ERROR_RESPONSES,
    )
    async def receive(request: AnyRequest, channel: FromPath[str]) -> Response[dict[str, bool]]:
        adapter = services.channels.get(channel)
        if adapter is None:
            raise NotFound(f"no channel {channel!r}")
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        event = adapter.parse_notification(headers, body, services.clock.now())
        await services.use_cases.handle_notification(channel, event)
        return json_response({"received": True})

    return receive


def health_handlers(services: ApiServices) -> list[Any]:
    @route("/health/live", http_method=PROBE_METHODS, tags=["operations"],
           summary="The process is up")
    async def live() -> Response[dict[str, str]]:
        return json_response({"status": "ok"})

    @route("/health/ready", http_method=PROBE_METHODS, tags=["operations"],
           summary="The database and dependencies answer")
    async def ready() -> Response[dict[str, Any]]:
        report, status = await readiness_report(services.readiness)
        return json_response(report, status)

    return [live, ready]
