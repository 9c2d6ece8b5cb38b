"""A request body, decoded once and strictly into its handler's type.

Strictly: a wrong JSON type is refused rather than converted (`"100"` is not an amount,
`100.0` neither), and a key given twice in one object is refused rather than silently
taking its last value, which a proxy, a log or a firewall reading the first would
disagree with (`{"amount": 1, "amount": 100000}`).

Once: the body's bytes are parsed by exactly one decoder, chosen by a lexical look at
them. msgspec decodes straight into the type, but keeps the last of repeated keys. So
when no string occurs twice anywhere in the body and nothing is escaped (an escape could
spell one key two ways), no object can hold a key twice and msgspec decodes it; otherwise
the standard library's decoder parses it with a hook that sees every object's pairs, and
msgspec converts the result with the same strictness. For a payment, in instructions
(callgrind): the look and msgspec ~27 k, the standard library's path ~110 k, the three
decodes before ~80 k. `StrictRequest.json` is what Litestar asks for a handler's `data`,
so Litestar never decodes the body itself.
"""

from __future__ import annotations

import json
import types
from functools import lru_cache
from typing import Any, Union, get_args, get_origin

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.handlers import BaseRouteHandler

NUL_MESSAGE = "text may not contain NUL (U+0000) characters"
NOT_UTF8_MESSAGE = "malformed body: not valid UTF-8"
DUPLICATE_KEY_MESSAGE = "malformed body: a key appears twice in one object"
NOT_JSON_MESSAGE = "malformed body: not valid JSON"



class _RepeatedKey(Exception):
    pass


class StrictRequest(Request[Any, Any, Any]):
    """Litestar's request, whose `json()` decodes a handler's `data` with `decode_body`."""

    async def json(self) -> Any:
        kind = body_type(self.route_handler)
        if kind is None:
            return await super().json()
        return decode_body(await self.body(), kind)


def body_type(handler: BaseRouteHandler) -> Any:
    """What a body sent to `handler` must be: its `data` type, `X` for an optional
    `X | None` (only an empty body means "none"); None when it takes no body."""
    field = handler.parsed_fn_signature.parameters.get("data")
    return None if field is None else _sent_type(field.annotation)


@lru_cache(maxsize=64)
def _sent_type(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        present = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(present) == 1:
            return present[0]
    return annotation


@lru_cache(maxsize=64)
def _decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind, strict=True)


def decode_body(body: bytes, kind: Any) -> Any:
    """`body` as a `kind`, or a `ValidationException` saying what is wrong with it."""
    try:
        if _keys_may_repeat(body):
            value = msgspec.convert(_pairs_checked(body), kind, strict=True)
        else:
            value = _decoder(kind).decode(body)
    except msgspec.ValidationError as error:
        message, _, where = str(error).partition(" - at `$")
        key = where.rstrip("`").lstrip(".") or "data"
        raise ValidationException(
            extra=[{"message": message, "key": key, "source": "body"}]) from error
    except UnicodeError as error:  # not UTF-8, or a lone surrogate escaped in a string
        raise _malformed(NOT_UTF8_MESSAGE) from error
    except _RepeatedKey as error:
        raise _malformed(DUPLICATE_KEY_MESSAGE) from error
    except (msgspec.DecodeError, ValueError, RecursionError) as error:
        utf8 = isinstance(error, msgspec.DecodeError) and "UTF-8" in str(error)
        raise _malformed(NOT_UTF8_MESSAGE if utf8 else NOT_JSON_MESSAGE) from error
    if _escapes_nul(body):
        raise ValidationException(extra=[{"message": NUL_MESSAGE, "source": "body"}])
    return value


def _malformed(message: str) -> ValidationException:
    return ValidationException(extra=[{"message": message, "source": "body"}])


def _keys_may_repeat(body: bytes) -> bool:
    """False only when nothing is escaped (`"amo\\u0075nt"` is `amount`) and no string
    occurs twice in the whole body: then no object can hold a key twice.

    Without a backslash no quote can stand inside a string, and in JSON none stands
    outside one, so splitting at the quotes puts every string at an odd index. Invalid
    JSON may split otherwise, and then fails in the decoder whichever one reads it.
    """
    if b"\\" in body:
        return True
    strings = body.split(b'"')[1::2]
    return len(set(strings)) != len(strings)


def _pairs_checked(body: bytes) -> Any:
    """The body parsed by the standard library, refusing a key twice in one object,
    NaN and Infinity (not JSON), and lone surrogates (not text)."""
    value = json.loads(
        body.decode("utf-8"), object_pairs_hook=_one_value_per_key, parse_constant=_refuse
    )
    _encodable(value)
    return value


def _one_value_per_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    unique = dict(pairs)
    if len(unique) != len(pairs):
        raise _RepeatedKey
    return unique


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _encodable(value: Any) -> None:
    """Raises `UnicodeEncodeError` for a string holding a lone surrogate."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, dict):
        for key, item in value.items():
            key.encode("utf-8")
            _encodable(item)
    elif isinstance(value, list):
        for item in value:
            _encodable(item)


def _escapes_nul(body: bytes) -> bool:
    """Valid JSON carries U+0000 only as the escape `\\u0000` not itself escaped (`\\\\u0000`)."""
    at = body.find(b"\\u0000")
    while at != -1:
        backslashes_before = at - len(body[:at].rstrip(b"\\"))
        if backslashes_before % 2 == 0:
            return True
        at = body.find(b"\\u0000", at + 1)
    return False
