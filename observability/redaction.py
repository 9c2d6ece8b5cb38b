"""Scrubbing of card numbers, CVCs, secrets, signatures and credentials from log data.

The rules look at values (a 13-19 digit run that passes Luhn is a card number wherever
it appears) and at names (whatever is called `cvc`, `*secret*`, `*signature*`,
`authorization`... is hidden, in a dict, a header list or `name=value` text).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from domain.card import luhn_valid

REDACTED: Final = "[REDACTED]"
_SENSITIVE_NAME: Final = re.compile(
    r"secret|password|passwd|token|signature|authorization|cookie|cvc|cvv|card_?number|"
    r"security_?code",
    re.IGNORECASE,
)
# `name: value` / `name=value` / `"name": "value"`, the value up to a quote, space or `;&}]`.
_NAMED_VALUE: Final = re.compile(
    r"""(?P<name>["']?[\w-]*(?:secret|password|passwd|token|signature|authorization|cookie|"""
    r"""cvc|cvv|card_?number|security_?code)[\w-]*["']?\s*[:=]\s*["']?)"""
    r"""(?:(?:bearer|basic|token)\s+)?[^\s"';&}\]]+""",
    re.IGNORECASE,
)
_CREDENTIAL: Final = re.compile(
    r"\b(?:(bearer)\s+[\w.~+/=-]+|(basic)\s+[A-Za-z0-9+/]{8,}={0,2})", re.IGNORECASE)
_CARD: Final = re.compile(r"(?<!\d)(?:\d{13,19}|\d{4}(?:[ -]\d{3,6}){2,4})(?!\d)")
_MAX_DEPTH: Final = 6


def _card(match: re.Match[str]) -> str:
    digits = "".join(c for c in match.group() if c.isdigit())
    return REDACTED if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


def redact_text(text: str) -> str:
    """`text` with card numbers and named secrets replaced by [REDACTED]."""
    if not text:
        return text
    text = _NAMED_VALUE.sub(lambda m: m.group("name") + REDACTED, text)
    text = _CREDENTIAL.sub(lambda m: f"{m.group(1) or m.group(2)} {REDACTED}", text)
    return _CARD.sub(_card, text)


def is_sensitive_name(name: object) -> bool:
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    return isinstance(name, str) and _SENSITIVE_NAME.search(name) is not None


def redact_value(value: object, depth: int = 0) -> object:
    """A copy of `value` with sensitive entries hidden; dicts, lists, tuples and header
    pairs `(name, value)` are walked, bytes become text."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    if depth >= _MAX_DEPTH:
        return REDACTED
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if is_sensitive_name(key) else redact_value(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        if isinstance(value, tuple) and len(value) == 2 and is_sensitive_name(value[0]):
            return [redact_value(value[0], depth + 1), REDACTED]
        return [redact_value(item, depth + 1) for item in value]
    return redact_text(str(value))
