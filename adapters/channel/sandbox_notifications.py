"""The sandbox's signed notifications: the body, verifying it, and signing one.

X-Channel-Signature: t={unix},v1={hex hmac-sha256 of "{t}.{raw_body}"}
{"id": "evt_...", "type": "charge.succeeded", "payment_no": "pay_...",
 "refund_no": null, "failure_code": null}
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal, cast, get_args

import msgspec

from adapters.channel.headers import header
from adapters.channel.signature import signature_header, verify_signature
from application.errors import InvalidSignature
from application.ports.channel import ChannelEvent

SIGNATURE_HEADER = "X-Channel-Signature"

EventType = Literal["charge.succeeded", "charge.failed", "refund.succeeded", "refund.failed"]


class SandboxNotification(msgspec.Struct, frozen=True):
    id: str
    type: EventType
    payment_no: str
    refund_no: str | None = None
    failure_code: str | None = None


def parse_sandbox_notification(
    headers: Mapping[str, str], body: bytes, now: datetime, secret: str
) -> ChannelEvent:
    """The signature is checked on the raw bytes before the body is even decoded."""
    verify_signature(header(headers, SIGNATURE_HEADER), secret, body, now)
    try:
        note = msgspec.json.decode(body, type=SandboxNotification)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise InvalidSignature(f"the notification body is not valid: {exc}") from exc
    return ChannelEvent(
        note.id, note.type, note.payment_no, note.refund_no, failure_code=note.failure_code
    )


def sign_sandbox_notification(
    event: ChannelEvent, secret: str, timestamp: int
) -> tuple[bytes, dict[str, str]]:
    """Body and headers of a notification, as the sandbox's notifier (and tests) send it."""
    if event.type not in get_args(EventType):
        raise ValueError(f"the sandbox sends no {event.type!r} notification")
    note = SandboxNotification(
        event.event_id,
        cast(EventType, event.type),
        event.payment_no,
        event.refund_no,
        event.failure_code,
    )
    body = msgspec.json.encode(note)
    return body, {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(secret, body, timestamp),
    }
