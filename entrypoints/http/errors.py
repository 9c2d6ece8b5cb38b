"""One table from error code to HTTP status, and the handlers that render the error body.

{"error": {"code": "...", "message": "...", "trace_id": "...", "details": []}}
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from adapters.persistence.errors import is_database_failure
from application.errors import Unavailable
from domain.errors import DomainError
from entrypoints.http.schemas import ErrorOut

log = logging.getLogger(__name__)

STATUS_BY_CODE: dict[str, int] = {
    "malformed_request": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "duplicate_order": 409,
    "idempotency_key_in_use": 409,
    "invalid_status": 409,
    "authorization_expired": 409,
    "request_timeout": 408,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "validation_error": 422,
    "invalid_currency": 422,
    "invalid_amount": 422,
    "invalid_channel": 422,
    "amount_exceeded": 422,
    "idempotency_key_reused": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "unavailable": 503,
}
_CODE_BY_HTTP_STATUS = {
    400: "malformed_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}
_WRONG_TYPE = re.compile(r"^Expected `[^`]+`, got `[^`]+`")
_ENCODER = msgspec.json.Encoder()

TraceIdSource = Callable[[], "str | None"]


def _documented(status: int) -> ResponseSpec:
    codes = ", ".join(code for code, code_status in STATUS_BY_CODE.items() if code_status == status)
    return ResponseSpec(data_container=ErrorOut, description=f"error; code is one of: {codes}")


ERROR_RESPONSES = {status: _documented(status) for status in sorted(set(STATUS_BY_CODE.values()))}
"""For OpenAPI: every error status, with the body every error response really has."""


class ApiError(Exception):
    """An error decided at the edge (authentication, rate limit) rather than by a use case."""

    def __init__(
        self,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.headers = code, message, headers or {}
        self.details = details or []


def error_body(
    code: str, message: str, trace_id: str | None, details: list[dict[str, Any]] | None = None
) -> bytes:
    return _ENCODER.encode(
        {
            "error": {
                "code": code,
                "message": message,
                "trace_id": trace_id,
                "details": details or [],
            }
        }
    )


CodedError = DomainError | Unavailable
"""What a use case refuses with: a broken rule, or an outage. Both carry a stable code."""


def domain_error_response(error: CodedError, trace_id: str | None) -> tuple[int, bytes]:
    details = [error.details] if error.details else []
    return STATUS_BY_CODE.get(error.code, 422), error_body(
        error.code, error.message, trace_id, details
    )


def _validation_code(exc: ValidationException) -> tuple[str, list[dict[str, Any]]]:
    """Bad JSON and wrong types are malformed (400); everything else is a validation error."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    details = [item for item in extra if isinstance(item, dict)]
    if any(item.get("message") == "'data'" for item in details):  # Litestar's "no body at all"
        return "malformed_request", [{"message": "the request body is empty; send a JSON object"}]
    messages = [str(item.get("message", "")) for item in details]
    malformed = any(_WRONG_TYPE.match(m) or "malformed" in m.lower() for m in messages)
    return ("malformed_request" if malformed or not details else "validation_error"), details


def make_exception_handlers(trace_id: TraceIdSource) -> dict[Any, Callable[..., Response[bytes]]]:
    def render(
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response[bytes]:
        return Response(
            error_body(code, message, trace_id(), details),
            status_code=status,
            media_type="application/json",
            headers=headers,
        )

    def on_domain_error(request: Request[Any, Any, Any], exc: CodedError) -> Response[bytes]:
        status, body = domain_error_response(exc, trace_id())
        if status >= 500:  # a dependency or the database: the operator's problem, not the caller's
            log.warning(
                "%s %s answered %d %s: %s",
                request.method,
                request.scope.get("path_template") or request.scope["path"],
                status,
                exc.code,
                exc.message,
            )
        return Response(body, status_code=status, media_type="application/json")

    def on_api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[bytes]:
        return render(STATUS_BY_CODE[exc.code], exc.code, exc.message, exc.details,
                      headers=exc.headers)

    def on_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
        code, details = _validation_code(exc)
        message = (
            "; ".join(str(d.get("message")) for d in details)
            or "the request body is not valid JSON"
        )
        return render(STATUS_BY_CODE[code], code, message, details)

    def on_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
        code = _CODE_BY_HTTP_STATUS.get(exc.status_code, "malformed_request")
        status = exc.status_code if exc.status_code in _CODE_BY_HTTP_STATUS else 400
        if isinstance(exc, NotAuthorizedException):
            status, code = 401, "unauthenticated"
        return render(status, code, exc.detail or code.replace("_", " "))

    def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
        log.exception(
            "unhandled error on %s %s", request.method, request.scope.get("path_template")
        )
        if is_database_failure(exc):  # its unit rolled back: nothing written (ADR 0028)
            return render(503, "unavailable", "the database failed; nothing was written")
        return render(500, "internal_error", "an internal error occurred")

    return {
        DomainError: on_domain_error,
        Unavailable: on_domain_error,
        ApiError: on_api_error,
        ValidationException: on_validation,
        HTTPException: on_http,
        Exception: on_unexpected,
    }
