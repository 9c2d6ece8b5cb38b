"""`paygate serve-channel`: the sandbox acquirer over HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Litestar, Request, Response, get, route
from litestar.params import FromPath

from adapters.channel.wire_server import dispatch
from application.ports.channel import ChannelPort
from entrypoints.services.common import json_bytes, service_app


def channel_app(
    channel: ChannelPort, metrics_route: Any = None, *, token: str | None = None
) -> Litestar:
    @route("/v1/{rest:path}", http_method=["GET", "POST"], status_code=200)
    async def anything(request: Request[Any, Any, Any]) -> Response[bytes]:
        raw_path = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
        query = dict(parse_qsl(request.scope.get("query_string", b"").decode("latin-1")))
        status, body = await dispatch(
            channel, request.method, raw_path, query, await request.body()
        )
        return json_bytes(body, status)

    handlers: list[Any] = [anything]
    counter = getattr(channel, "charges_for", None)
    if counter is not None:

        @get("/sandbox/charges/{key:str}", sync_to_thread=False)
        def executions(key: FromPath[str]) -> Response[bytes]:
            """How often the sandbox really charged under an idempotency key (for drills)."""
            return json_bytes(msgspec.json.encode({"key": key, "executions": counter(key)}))

        handlers.append(executions)
    return service_app(handlers, metrics_route=metrics_route, token=token)
