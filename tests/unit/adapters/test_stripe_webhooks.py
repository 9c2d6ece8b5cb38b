"""Stripe webhooks: `Stripe-Signature` verification and event translation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.channel.signature import signature_header
from adapters.channel.stripe_channel import StripeChannel
from adapters.resilience import Breakers
from application.errors import InvalidSignature
from application.ports.channel import ChannelEvent

SECRET = "whsec_unit"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def event(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps(
        {"id": "evt_1", "object": "event", "type": kind, "data": {"object": obj}}
    ).encode()


def parse(body: bytes, at: datetime = NOW, secret: str = SECRET) -> ChannelEvent:
    header = signature_header(secret, body, int(at.timestamp()))
    channel = StripeChannel.connect("sk_test_x", SECRET, Breakers())
    return channel.parse_notification({"stripe-signature": header}, body, NOW)


INTENT = {"id": "pi_1", "object": "payment_intent", "metadata": {"payment_no": "pay_1"}}


def test_a_succeeded_payment_intent_is_a_charge_success() -> None:
    parsed = parse(event("payment_intent.succeeded", INTENT))
    assert parsed == ChannelEvent("evt_1", "charge.succeeded", "pay_1", reference="pi_1")


def test_an_authorized_manual_intent_is_a_charge_success_of_its_authorization() -> None:
    parsed = parse(event("payment_intent.amount_capturable_updated",
                         {**INTENT, "status": "requires_capture"}))
    assert parsed == ChannelEvent("evt_1", "charge.succeeded", "pay_1", reference="pi_1")


def test_a_failed_payment_intent_carries_the_decline_reason() -> None:
    failed = {
        **INTENT,
        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"},
    }
    parsed = parse(event("payment_intent.payment_failed", failed))
    assert (parsed.type, parsed.failure_code) == ("charge.failed", "insufficient_funds")


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [("succeeded", "refund.succeeded", None), ("failed", "refund.failed", "lost_or_stolen_card")],
)
def test_a_final_refund_update_is_a_refund_event(status: str, kind: str, code: str | None) -> None:
    refund = {
        "id": "re_1",
        "object": "refund",
        "status": status,
        "failure_reason": code,
        "metadata": {"payment_no": "pay_1", "refund_no": "ref_1"},
    }
    parsed = parse(event("refund.updated", refund))
    assert parsed == ChannelEvent("evt_1", kind, "pay_1", "ref_1", "re_1", code)


def test_other_verified_events_are_marked_as_stripes_own() -> None:
    assert parse(event("customer.created", {"id": "cus_1"})).type == "stripe.customer.created"


def test_a_rotated_secret_still_verifies_when_one_signature_matches() -> None:
    body = event("payment_intent.succeeded", INTENT)
    t = int(NOW.timestamp())
    old = signature_header("whsec_old", body, t).split("v1=")[1]
    header = f"{signature_header(SECRET, body, t)},v1={old}"
    channel = StripeChannel.connect("sk_test_x", SECRET, Breakers())
    assert channel.parse_notification({"Stripe-Signature": header}, body, NOW).payment_no == "pay_1"


def test_a_wrong_secret_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        parse(event("payment_intent.succeeded", INTENT), secret="whsec_other")


def test_a_stale_event_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        parse(event("payment_intent.succeeded", INTENT), at=NOW - timedelta(minutes=6))


def test_a_missing_header_is_refused() -> None:
    channel = StripeChannel.connect("sk_test_x", SECRET, Breakers())
    with pytest.raises(InvalidSignature):
        channel.parse_notification({}, event("payment_intent.succeeded", INTENT), NOW)


@pytest.mark.parametrize("body", [b"[]", b'{"id": "evt_1", "type": "x", "data": {}}'])
def test_a_signed_body_that_is_not_an_event_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidSignature):
        parse(body)
