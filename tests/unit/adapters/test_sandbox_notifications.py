"""Sandbox notifications: only a fresh, correctly signed, well-formed body is believed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from adapters.channel.sandbox import SandboxChannel
from adapters.channel.sandbox_notifications import sign_sandbox_notification
from adapters.channel.signature import signature_header
from application.errors import InvalidSignature
from application.ports.channel import ChannelEvent

SECRET = "sandbox-test-secret"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
EVENT = ChannelEvent("evt_1", "refund.failed", "pay_1", "ref_1", failure_code="refund_declined")


def signed(event: ChannelEvent = EVENT, at: datetime = NOW) -> tuple[bytes, dict[str, str]]:
    return sign_sandbox_notification(event, SECRET, int(at.timestamp()))


def parse(body: bytes, headers: dict[str, str]) -> ChannelEvent:
    return SandboxChannel(SECRET).parse_notification(headers, body, NOW)


def test_a_signed_notification_becomes_an_event() -> None:
    assert parse(*signed()) == EVENT


def test_the_body_has_the_contract_fields() -> None:
    body, _ = signed(ChannelEvent("evt_2", "charge.succeeded", "pay_2"))
    assert json.loads(body) == {
        "id": "evt_2",
        "type": "charge.succeeded",
        "payment_no": "pay_2",
        "refund_no": None,
        "failure_code": None,
    }


def test_header_names_are_matched_whatever_their_case() -> None:
    body, headers = signed()
    assert parse(body, {k.lower(): v for k, v in headers.items()}) == EVENT


def test_a_notification_signed_within_the_tolerance_is_accepted() -> None:
    assert parse(*signed(at=NOW - timedelta(seconds=299))) == EVENT


def test_a_stale_notification_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="tolerance"):
        parse(*signed(at=NOW - timedelta(seconds=301)))


def test_a_notification_from_the_future_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="tolerance"):
        parse(*signed(at=NOW + timedelta(seconds=301)))


def test_a_tampered_body_with_its_original_signature_is_refused() -> None:
    body, headers = signed()
    tampered = body.replace(b"refund.failed", b"refund.succeeded")
    with pytest.raises(InvalidSignature, match="does not match"):
        parse(tampered, headers)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    body, _ = signed()
    header = signature_header("another-secret", body, int(NOW.timestamp()))
    with pytest.raises(InvalidSignature):
        parse(body, {"X-Channel-Signature": header})


def test_a_replayed_signature_with_a_fresh_timestamp_is_refused() -> None:
    body, headers = signed(at=NOW - timedelta(hours=1))
    old_digest = headers["X-Channel-Signature"].split("v1=")[1]
    with pytest.raises(InvalidSignature, match="does not match"):
        parse(body, {"X-Channel-Signature": f"t={int(NOW.timestamp())},v1={old_digest}"})


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=123", "t=abc,v1=def", "garbage"])
def test_a_missing_or_unparseable_signature_is_refused(header: str | None) -> None:
    body, _ = signed()
    headers = {} if header is None else {"X-Channel-Signature": header}
    with pytest.raises(InvalidSignature):
        parse(body, headers)


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"id": "evt_1"}', b'{"id":"e","type":"charge.exploded","payment_no":"p"}'],
)
def test_a_correctly_signed_but_malformed_body_is_refused(body: bytes) -> None:
    header = signature_header(SECRET, body, int(NOW.timestamp()))
    with pytest.raises(InvalidSignature, match="body"):
        parse(body, {"X-Channel-Signature": header})


def test_only_contract_event_types_can_be_signed() -> None:
    with pytest.raises(ValueError, match=r"payment\.succeeded"):
        signed(ChannelEvent("evt_3", "payment.succeeded", "pay_3"))
