"""Encoding responses, and running a POST at most once per Idempotency-Key."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response

from application.ports.storage import StoredResponse
from domain.errors import DomainError
from entrypoints.http.auth import request_target
from entrypoints.http.errors import domain_error_response
from entrypoints.http.services import ApiServices

_encode = msgspec.json.Encoder().encode
JSON = "application/json"


def json_response(content: Any, status: int = 200) -> Response[Any]:
    return Response(_encode(content), status_code=status, media_type=JSON)


async def run_post(
    request: Request[Any, Any, Any],
    services: ApiServices,
    scope: str,
    status: int,
    produce: Callable[[], Awaitable[Any]],
) -> Response[Any]:
    """Without a key, just run. With one, replay or run once and remember the response."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return json_response(await produce(), status)

    async def action() -> StoredResponse:
        try:
            return StoredResponse(status, _encode(await produce()))
        except DomainError as error:
            code, body = domain_error_response(error, services.trace_id())
            return StoredResponse(code, body)

    body = await request.body()
    fingerprint = hashlib.sha256(
        f"{request.method}\n{request_target(request.scope)}\n".encode() + body
    ).hexdigest()
    stored, replayed = await services.idempotency.run(scope, key, fingerprint, action)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(stored.body, status_code=stored.status, media_type=JSON, headers=headers)
