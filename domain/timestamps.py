"""The one way a moment is written for anyone outside: RFC 3339 in UTC, milliseconds, `Z`.

Payments, refunds, events and error messages all use it (`2026-12-07T14:16:09.245Z`),
so a client can compare an error's `capture_before` with the payment's, byte for byte.
"""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(moment: datetime) -> str:
    """`moment` in UTC with milliseconds (truncated, never rounded up) and a `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
