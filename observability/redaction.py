"""Scrubbing of card numbers, CVCs, secrets, signatures and credentials from log data.

The rules look at values (a 13-19 digit run that passes Luhn is a card number wherever
it appears, as text or as a number) and at names (whatever is called `cvc`, `*secret*`,
`*signature*`, `authorization`, `pan`, `number`... is hidden whatever its type, in a dict,
a header list or `name=value` text).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from domain.card import luhn_valid

REDACTED: Final = "[REDACTED]"
_CVC_NAMES: Final = r"cvc|cvv|security[\s_-]?code"
_NAMES: Final = (
    r"secret|password|passwd|token|signature|authorization|cookie|card[_-]?number|" + _CVC_NAMES
)
_SENSITIVE_NAME: Final = re.compile(_NAMES, re.IGNORECASE)
# Names that are sensitive only on their own: `payment_method.number` and `pan` are the card
# number, but `phone_number`, `order_number`, `span_id` or `company` are not secrets.
_SENSITIVE_WHOLE_NAMES: Final = frozenset({"pan", "number"})


def _word_holding(names: str) -> str:
    r"""A word that holds one of `names` (`x-api-token`, `"card_number"`, `security code`).
    It is found from the word's start (the lookbehind) by a lazy lookahead and then taken
    whole by a possessive quantifier, so a long word costs one pass: a greedy
    `[\w-]*name[\w-]*` retried at every offset of a 20,000-character word took 20 seconds
    per log line."""
    return rf"(?<![\w-])(?=[\w-]*?(?:{names}))[\w-]++(?:(?<=security)[\s_-][\w-]++)?"


# `name: value` / `name=value` / `"name": "value"`, the value up to a quote, space or `;&}]`.
_NAMED_VALUE: Final = re.compile(
    rf"""(?P<name>["']?{_word_holding(_NAMES)}["']?\s*+[:=]\s*+["']?)"""
    r"""(?:(?:bearer|basic|token)\s++)?[^\s"';&}\]]++""",
    re.IGNORECASE,
)
# `cvc 987`, `CVV2 1234`, `security code (987)`: a CVC after its name with no `:` or `=`.
# Only a 3 or 4 digit value right after the name is taken, so "cvc check failed" keeps its
# words and a number with no CVC name before it is never touched.
_CVC_SPACED: Final = re.compile(
    rf"(?P<name>{_word_holding(_CVC_NAMES)}[^\w\n]{{1,6}})\d{{3,4}}(?!\d)",
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
    text = _CVC_SPACED.sub(lambda m: m.group("name") + REDACTED, text)
    text = _CREDENTIAL.sub(lambda m: f"{m.group(1) or m.group(2)} {REDACTED}", text)
    return _CARD.sub(_card, text)


def is_sensitive_name(name: object) -> bool:
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    if not isinstance(name, str):
        return False
    whole = name.strip().lower() in _SENSITIVE_WHOLE_NAMES
    return whole or _SENSITIVE_NAME.search(name) is not None


def _redact_number(value: int | float) -> object:
    """A number is a card number on the same terms as a digit run in text: 13 to 19 digits
    and Luhn-valid. Requiring Luhn keeps the other long integers a log carries (epoch
    milliseconds are 13 digits, nanoseconds and 64-bit ids 19) readable, bar the one in ten
    that passes by chance; a mistyped card number is still hidden when it sits under a card
    name (`number`, `pan`, `card_number`), which hides any value."""
    if isinstance(value, float) and not value.is_integer():
        return value
    magnitude = abs(int(value))
    if not 10**12 <= magnitude < 10**19:
        return value
    return REDACTED if luhn_valid(str(magnitude)) else value


def redact_value(value: object, depth: int = 0) -> object:
    """A copy of `value` with sensitive entries hidden; dicts, lists, tuples and header
    pairs `(name, value)` are walked, bytes become text."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return _redact_number(value)
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
