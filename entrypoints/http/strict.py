"""Request input checked before any handler runs: strict JSON types, and no NUL characters.

Litestar converts a decoded body leniently ("100" becomes 100, 100.0 becomes 100). For an
amount that is a silent guess, and the contract says a wrong type is `400
malformed_request`, so each body is also decoded strictly against its handler's `data` type.

A body is one JSON object, read one way: `null` for an optional body is not "no body" (a
refund body of `null` would refund everything), and a key given twice is refused rather
than silently taking its last value, which a proxy, a log or a firewall reading the first
would disagree with (`{"amount": 1, "amount": 100000}`). Bytes that are not UTF-8 inside a
string are malformed too.

PostgreSQL cannot store U+0000 in text, so a NUL anywhere in the path, the query or a body
string would fail deep in a write (a 500, perhaps after an order was recorded); it is a
`422 validation_error` here instead, on every database alike.
"""

from __future__ import annotations

import json
import types
from typing import Any, Union, get_args, get_origin

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

NUL_MESSAGE = "text may not contain NUL (U+0000) characters"
NOT_UTF8_MESSAGE = "malformed body: not valid UTF-8"
DUPLICATE_KEY_MESSAGE = "malformed body: a key appears twice in one object"


async def check_input(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook: it runs after authentication (the merchant API runs it
    after its own) and before the body is converted."""
    if "\x00" in request.scope["path"] or b"%00" in request.scope.get("query_string", b""):
        raise ValidationException(extra=[{"message": NUL_MESSAGE, "source": "url"}])
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return
    body = await request.body()
    if not body:
        return
    try:
        msgspec.json.decode(body, type=_sent_type(field.annotation), strict=True)
    except msgspec.ValidationError as error:
        message, _, where = str(error).partition(" - at `$")
        key = where.rstrip("`").lstrip(".") or "data"
        raise ValidationException(
            extra=[{"message": message, "key": key, "source": "body"}]
        ) from error
    except msgspec.DecodeError:
        return  # not JSON at all: Litestar refuses it as malformed when it decodes it
    except UnicodeDecodeError as error:
        raise ValidationException(
            extra=[{"message": NOT_UTF8_MESSAGE, "source": "body"}]) from error
    if _repeats_a_key(body):
        raise ValidationException(extra=[{"message": DUPLICATE_KEY_MESSAGE, "source": "body"}])
    if _escapes_nul(body):
        raise ValidationException(extra=[{"message": NUL_MESSAGE, "source": "body"}])


def _escapes_nul(body: bytes) -> bool:
    """Valid JSON carries U+0000 only as the escape `\\u0000` not itself escaped (`\\\\u0000`)."""
    at = body.find(b"\\u0000")
    while at != -1:
        backslashes_before = at - len(body[:at].rstrip(b"\\"))
        if backslashes_before % 2 == 0:
            return True
        at = body.find(b"\\u0000", at + 1)
    return False


def _sent_type(annotation: Any) -> Any:
    """What a body that was sent must be: `X` for an optional `X | None` (only an empty
    body means "none")."""
    if get_origin(annotation) in (Union, types.UnionType):
        present = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(present) == 1:
            return present[0]
    return annotation


class _RepeatedKey(Exception):
    pass


def _one_value_per_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    unique = dict(pairs)
    if len(unique) != len(pairs):
        raise _RepeatedKey
    return unique


def _repeats_a_key(body: bytes) -> bool:
    """~4 µs for a payment body; msgspec (last value wins) cannot tell."""
    try:
        json.loads(body, object_pairs_hook=_one_value_per_key)
    except _RepeatedKey:
        return True
    return False
