"""`t={unix},v1={hex hmac-sha256 of "{t}.{body}"}`: the header both the sandbox and Stripe use.

The timestamp is inside the signed text, so an old notification cannot be replayed with a
fresh `t`, and the tolerance bounds how long a captured one stays usable.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from application.errors import InvalidSignature

TOLERANCE_SECONDS = 300
_MAX_TIMESTAMP_DIGITS = 12  # longer is no Unix time, and would overflow a float comparison


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """The header value a sender puts on `body` at `timestamp` (Unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, body, timestamp)}"


def verify_signature(
    header: str | None,
    secret: str,
    body: bytes,
    now: datetime,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Raise `InvalidSignature` unless one `v1` matches and `t` is within the tolerance."""
    if not header:
        raise InvalidSignature("the signature header is missing")
    timestamp, candidates = _parse(header)
    if abs(now.timestamp() - timestamp) > tolerance:
        raise InvalidSignature("the signature timestamp is outside the tolerance")
    expected = _digest(secret, body, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise InvalidSignature("the signature does not match the body")


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if not value.isascii():
            continue  # a digest or a timestamp is ASCII; anything else cannot match
        if key == "t" and value.isdigit() and len(value) <= _MAX_TIMESTAMP_DIGITS:
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise InvalidSignature("the signature header needs t= and v1=")
    return timestamp, candidates


def _digest(secret: str, body: bytes, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
