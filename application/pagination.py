"""Opaque cursors: the position after the last row of a page, safe to put in a URL."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from application.errors import ValidationFailed
from application.ports.storage import Cursor

MAX_LIMIT = 100


def encode_cursor(cursor: Cursor | None) -> str | None:
    if cursor is None:
        return None
    raw = f"{cursor.created_at.isoformat()}|{cursor.key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str | None) -> Cursor | None:
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        moment, key = raw.split("|", 1)
        created_at = datetime.fromisoformat(moment)
        if created_at.tzinfo is None or not key or not key.isprintable():
            raise ValueError("not a cursor")
        created_at = created_at.astimezone(UTC)  # a year outside 1-9999 in UTC overflows
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as error:
        raise ValidationFailed("cursor is not one this API returned") from error
    return Cursor(created_at, key)


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}")
    return limit
