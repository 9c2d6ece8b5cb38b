"""Encoding responses, and running a POST at most once per Idempotency-Key."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response

from application.errors import ValidationFailed
from application.ports.storage import StoredResponse
from domain.errors import DomainError
from entrypoints.http.auth import request_target
from entrypoints.http.errors import domain_error_response
from entrypoints.http.services import ApiServices

_encode = msgspec.json.Encoder().encode
JSON = "application/json"
_SEALED = "Paygate-Sealed"  # a stored header, never sent: the body is the vault's ciphertext


def json_response(content: Any, status: int = 200) -> Response[Any]:
    return Response(_encode(content), status_code=status, media_type=JSON)


async def run_post(
    request: Request[Any, Any, Any],
    services: ApiServices,
    scope: str,
    status: int,
    produce: Callable[[], Awaitable[Any]],
    *,
    sealed: bool = False,
) -> Response[Any]:
    """Without a key, just run. With one, replay or run once and remember the response;
    `sealed`: the response holds secrets, so it is remembered sealed with the vault."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return json_response(await produce(), status)
    vault = services.vault if sealed else None
    if sealed and vault is None:
        raise ValidationFailed("Idempotency-Key is not accepted here: no vault to seal the replay")

    async def action() -> StoredResponse:
        try:
            body = _encode(await produce())
        except DomainError as error:
            code, error_body = domain_error_response(error, services.trace_id())
            return StoredResponse(code, error_body)
        if vault is None:
            return StoredResponse(status, body)
        return StoredResponse(status, vault.seal(body.decode()).encode(), {_SEALED: "vault"})

    body = await request.body()
    fingerprint = hashlib.sha256(
        f"{request.method}\n{request_target(request.scope)}\n".encode() + body
    ).hexdigest()
    stored, replayed = await services.use_cases.idempotency.run(scope, key, fingerprint, action)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    body = stored.body
    if stored.headers.get(_SEALED) and vault is not None:
        body = vault.open(body.decode()).encode()
    return Response(body, status_code=stored.status, media_type=JSON, headers=headers)
