"""JSON bodies are checked strictly: a value of the wrong JSON type is refused, not coerced.

Litestar converts a decoded body leniently ("100" becomes 100, 100.0 becomes 100). For an
amount that is a silent guess, and the contract says a wrong type is `400
malformed_request`, so each body is also decoded strictly against its handler's `data` type.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException


async def refuse_coerced_types(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook: it runs after the guards and before the body is converted."""
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return
    body = await request.body()
    if not body:
        return
    try:
        msgspec.json.decode(body, type=field.annotation, strict=True)
    except msgspec.ValidationError as error:
        message, _, where = str(error).partition(" - at `$")
        key = where.rstrip("`").lstrip(".") or "data"
        raise ValidationException(
            extra=[{"message": message, "key": key, "source": "body"}]
        ) from error
    except msgspec.DecodeError:
        return  # not JSON at all: Litestar refuses it as malformed when it decodes it
