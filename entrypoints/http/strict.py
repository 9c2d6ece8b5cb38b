"""Request input checked before any handler runs: no NUL characters, and JSON bodies only.

PostgreSQL cannot store U+0000 in text, so a NUL anywhere in the path, the query or a body
string would fail deep in a write (a 500, perhaps after an order was recorded); it is a
`422 validation_error` here instead, on every database alike (the body's own check is
part of decoding it, `body.decode_body`).

A body sent to a route that reads one must say it is JSON: `application/json`, with a
`charset` of UTF-8 if it names one. Anything else is `415 unsupported_media_type` before
a byte of it is interpreted. A request without a body has nothing to describe, so its
Content-Type, or the lack of one, is not checked (a refund with no body refunds what is
left; a payment with none is `400`, as the body it lacks is required).

An integer query parameter (`after`, `limit`: any a handler declares `int`) is ASCII
decimal digits with an optional leading minus sign and no leading zero, and nothing
else: a JSON integer, as in the bodies. Litestar's own
reading would take `1.0`, `1e3` or `1E2` as integers (and `after=1e3` would skip a
thousand events without a word); here they are `400 malformed_request` naming the
parameter. A `+`, spaces, `05`, `1_000` or another script's digits are refused the same
way.
Ranges (`limit` 1-100, `after` not negative) are the use cases' to check.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.exceptions import ValidationException
from litestar.handlers import BaseRouteHandler
from litestar.params import ParameterKwarg, PathParameter

from entrypoints.http.body import NUL_MESSAGE, body_type
from entrypoints.http.errors import ApiError

JSON_MEDIA_TYPE = "application/json"
_UTF8 = frozenset({"utf-8", "utf8"})
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_INTEGER_QUERY: dict[Any, tuple[str, ...]] = {}  # by handler function: its integer parameters


async def check_input(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook: it runs after authentication (the merchant API runs it
    after its own) and before the body is decoded."""
    if "\x00" in request.scope["path"] or b"%00" in request.scope.get("query_string", b""):
        raise ValidationException(extra=[{"message": NUL_MESSAGE, "source": "url"}])
    check_query_integers(request)
    if body_type(request.route_handler) is None or not await request.body():
        return
    if not is_json(request.headers.get("content-type")):
        raise ApiError(
            "unsupported_media_type",
            f"the request body must be {JSON_MEDIA_TYPE} (UTF-8); "
            f"Content-Type was {request.headers.get('content-type')!r}",
        )


def is_json(content_type: str | None) -> bool:
    """`application/json`, any case, with no charset or a UTF-8 one."""
    if content_type is None:
        return False
    media_type, *parameters = content_type.split(";")
    if media_type.strip().lower() != JSON_MEDIA_TYPE:
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in _UTF8:
            return False
    return True


def integer_query_parameters(handler: BaseRouteHandler) -> tuple[str, ...]:
    """The query parameters `handler` reads as integers, by the name they are sent under."""
    known = _INTEGER_QUERY.get(handler.fn)
    if known is None:
        known = _INTEGER_QUERY[handler.fn] = tuple(
            definition.query or definition.name or name
            for name, field in handler.parsed_fn_signature.parameters.items()
            if field.is_subclass_of(int) and not field.is_subclass_of(bool)
            and isinstance(definition := field.kwarg_definition, ParameterKwarg)
            and not isinstance(definition, PathParameter)
            and definition.header is None and definition.cookie is None
        )
    return known


def check_query_integers(request: Request[Any, Any, Any]) -> None:
    """`400 malformed_request` for an integer query parameter that is not digits."""
    names = integer_query_parameters(request.route_handler)
    if not names:
        return
    query = request.query_params
    for name in names:
        for value in query.getall(name, []):
            if not _INTEGER.fullmatch(value):
                message = (f"{name} must be an integer (decimal digits, no leading zero, a "
                           f"minus sign before a negative one), not {value!r}")
                raise ApiError("malformed_request", message,
                               details=[{"message": message, "key": name, "source": "query"}])
