"""Authorize, capture and void through the remote channel client and its wire server."""

from __future__ import annotations

import httpx
import pytest

from adapters.channel.sandbox import SandboxChannel
from adapters.channel.wire_server import POSTS, QUERIES, dispatch
from application.ports.channel import (
    CaptureRequest,
    ChargeRequest,
    ChargeResult,
    Outcome,
    VoidRequest,
)
from domain.card import CardDetails
from domain.money import Money
from tests.unit.adapters.adapter_fakes import ManualClock
from tests.unit.adapters.test_remote_channel_client import SECRET, ChannelService, client


def authorization(number: str = "4242424242424242") -> ChargeRequest:
    card = CardDetails(number, 12, 2030, "123")
    return ChargeRequest("pay_1", "mer_1", Money(10_000, "USD"), card=card)


def capture_of(held: ChargeResult, amount: int = 6_000) -> CaptureRequest:
    return CaptureRequest("pay_1", "mer_1", Money(amount, "USD"), held.reference)


async def test_an_authorization_crosses_the_wire_with_its_hold(clock: ManualClock) -> None:
    service = ChannelService()

    held = await client(service, clock).authorize(authorization())

    assert held.outcome is Outcome.SUCCEEDED
    assert held.capture_before is not None
    assert held.capture_before.tzinfo is not None
    assert (held.reference or "").startswith("auth_sandbox_ok_")
    assert service.requests[0].url.path == "/v1/authorizations"
    assert service.requests[0].headers["Idempotency-Key"] == "pay_1"


async def test_a_capture_crosses_the_wire_once_with_its_key(clock: ManualClock) -> None:
    service = ChannelService()
    remote = client(service, clock)
    held = await remote.authorize(authorization())

    captured = await remote.capture(capture_of(held))

    assert captured.outcome is Outcome.SUCCEEDED
    assert service.requests[-1].headers["Idempotency-Key"] == "capture-pay_1"
    assert service.sandbox.moves_for("capture-pay_1") == 1
    assert await remote.query_capture("pay_1", held.reference) == captured


@pytest.mark.parametrize(
    ("number", "outcome", "failure_code"),
    [("4000000000000341", Outcome.FAILED, "card_declined"),
     ("4000000000001000", Outcome.UNKNOWN, None)],
)
async def test_the_capture_test_cards_answer_the_same_over_the_wire(
    clock: ManualClock, number: str, outcome: Outcome, failure_code: str | None
) -> None:
    remote = client(ChannelService(), clock)
    held = await remote.authorize(authorization(number))
    captured = await remote.capture(capture_of(held))
    assert (captured.outcome, captured.failure_code) == (outcome, failure_code)


async def test_a_capture_sent_but_unanswered_is_unknown_and_one_never_sent_is_unavailable(
    clock: ManualClock,
) -> None:
    held = ChargeResult(Outcome.SUCCEEDED, "auth_sandbox_ok_1")
    lost = client(ChannelService(*[httpx.ReadTimeout("slow")] * 3), clock)
    refused = client(ChannelService(*[httpx.ConnectError("refused")] * 3), clock)
    assert (await lost.capture(capture_of(held))).outcome is Outcome.UNKNOWN
    assert (await refused.void(VoidRequest("pay_1", "mer_1"))).failure_code == (
        "channel_unavailable")


async def test_a_void_and_its_query_cross_the_wire(clock: ManualClock) -> None:
    service = ChannelService()
    remote = client(service, clock)

    voided = await remote.void(VoidRequest("pay_1", "mer_1", "auth_sandbox_ok_1"))

    assert voided.outcome is Outcome.SUCCEEDED
    assert service.requests[0].headers["Idempotency-Key"] == "void-pay_1"
    assert await remote.query_void("pay_1", None) == voided


@pytest.mark.parametrize("body", [b"{}", b'{"payment_no": "p", "merchant_id": "m", '
                                        b'"amount": 0, "currency": "USD"}'])
async def test_the_wire_server_refuses_a_malformed_capture_with_422(body: bytes) -> None:
    status, _ = await dispatch(SandboxChannel(SECRET), "POST", "/v1/captures", {}, body)
    assert status == 422


def test_every_channel_operation_is_one_route_of_the_wire_server() -> None:
    assert {route.method for route in POSTS.values()} == {
        "tokenize", "charge", "authorize", "capture", "void", "refund"}
    assert set(QUERIES.values()) == {
        "query_charge", "query_capture", "query_void", "query_refund"}
