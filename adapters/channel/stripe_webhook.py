"""Stripe webhooks: verify `Stripe-Signature`, then read the event as a `ChannelEvent`.

Handled event types (subscribe the endpoint to these only):
    payment_intent.succeeded         -> charge.succeeded
    payment_intent.amount_capturable_updated -> charge.succeeded (a manual payment authorized)
    payment_intent.payment_failed    -> charge.failed (with our failure code)
    refund.updated / refund.created  -> refund.succeeded | refund.failed, once final
    charge.refund.updated            -> likewise
Any other verified event comes back typed `stripe.<type>`, which paygate does not act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from adapters.channel.headers import header
from adapters.channel.signature import verify_signature
from adapters.channel.stripe_wire import failure_code
from application.errors import InvalidSignature
from application.ports.channel import ChannelEvent

SIGNATURE_HEADER = "Stripe-Signature"
_REFUND_EVENTS = {"refund.updated", "refund.created", "charge.refund.updated"}


class _Event(msgspec.Struct):
    id: str
    type: str
    data: dict[str, Any]


def parse_stripe_event(
    headers: Mapping[str, str], body: bytes, now: datetime, webhook_secret: str
) -> ChannelEvent:
    verify_signature(header(headers, SIGNATURE_HEADER), webhook_secret, body, now)
    try:
        event = msgspec.json.decode(body, type=_Event)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise InvalidSignature(f"the event body is not valid: {exc}") from exc
    obj = event.data.get("object")
    if not isinstance(obj, dict):
        raise InvalidSignature("the event has no data.object")
    return _translate(event.id, event.type, obj)


def _translate(event_id: str, kind: str, obj: dict[str, Any]) -> ChannelEvent:
    raw_metadata = obj.get("metadata")
    metadata: dict[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
    payment_no = str(metadata.get("payment_no", ""))
    reference = obj["id"] if isinstance(obj.get("id"), str) else None
    if kind in ("payment_intent.succeeded", "payment_intent.amount_capturable_updated"):
        return ChannelEvent(event_id, "charge.succeeded", payment_no, reference=reference)
    if kind == "payment_intent.payment_failed":
        code = failure_code(obj.get("last_payment_error"))
        return ChannelEvent(event_id, "charge.failed", payment_no, None, reference, code)
    status = obj.get("status")
    if kind in _REFUND_EVENTS and status in ("succeeded", "failed"):
        refund_no = str(metadata.get("refund_no", "")) or None
        reason = str(obj.get("failure_reason") or "refund_failed")
        refund_code = reason if status == "failed" else None
        return ChannelEvent(
            event_id, f"refund.{status}", payment_no, refund_no, reference, refund_code
        )
    return ChannelEvent(event_id, f"stripe.{kind}", payment_no, reference=reference)
