"""The remote channel client against the wire server and a sandbox, through MockTransport."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from adapters.channel.remote import RemoteChannelClient
from adapters.channel.sandbox import SandboxChannel
from adapters.channel.sandbox_notifications import sign_sandbox_notification
from adapters.channel.wire_server import dispatch
from adapters.resilience import Breakers, Policy, RemoteService
from application.errors import Unavailable
from application.ports.channel import ChannelEvent, ChargeRequest, Outcome, RefundRequest
from domain.card import CardDetails
from domain.money import Money
from tests.unit.adapters.adapter_fakes import ManualClock

SECRET = "sandbox-test-secret"
FAST = Policy(timeout=1.0, attempts=3, wait_initial=0.001, wait_max=0.001, wait_jitter=0)


class ChannelService:
    """serve-channel in miniature: the wire server over a sandbox, plus injected faults."""

    def __init__(self, *faults: int | Exception) -> None:
        self.sandbox = SandboxChannel(SECRET)
        self.faults = list(faults)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.faults:
            fault = self.faults.pop(0)
            if isinstance(fault, Exception):
                raise fault
            return httpx.Response(fault)
        query = dict(request.url.params)
        path = request.url.raw_path.decode().partition("?")[0]
        status, body = await dispatch(self.sandbox, request.method, path, query, request.content)
        return httpx.Response(status, content=body)


def client(service: ChannelService, clock: ManualClock, threshold: int = 5) -> RemoteChannelClient:
    breakers = Breakers(failure_threshold=threshold, clock=clock)
    http = RemoteService.open(
        "channel:sandbox",
        "http://channel.test",
        breakers,
        FAST,
        transport=httpx.MockTransport(service),
    )
    return RemoteChannelClient(http, SECRET)


def charge(number: str = "4242424242424242", payment_no: str = "pay_1") -> ChargeRequest:
    card = CardDetails(number, 12, 2030, "123")
    return ChargeRequest(payment_no, "mer_1", Money(10_000, "USD"), card=card)


@pytest.mark.parametrize(
    ("number", "outcome", "failure_code"),
    [
        ("4242424242424242", Outcome.SUCCEEDED, None),
        ("4000000000009995", Outcome.FAILED, "insufficient_funds"),
        ("4000000000000259", Outcome.UNKNOWN, None),
    ],
)
async def test_charge_outcomes_cross_the_wire_unchanged(
    clock: ManualClock, number: str, outcome: Outcome, failure_code: str | None
) -> None:
    result = await client(ChannelService(), clock).charge(charge(number))
    assert (result.outcome, result.failure_code) == (outcome, failure_code)


async def test_a_charge_carries_its_idempotency_key(clock: ManualClock) -> None:
    service = ChannelService()
    await client(service, clock).charge(charge())
    assert service.requests[0].headers["Idempotency-Key"] == "pay_1"


async def test_a_charge_answered_5xx_is_retried_and_charged_once(clock: ManualClock) -> None:
    service = ChannelService(502)
    result = await client(service, clock).charge(charge())
    assert result.outcome is Outcome.SUCCEEDED
    assert (len(service.requests), service.sandbox.charges_for("pay_1")) == (2, 1)


async def test_connection_refused_fails_with_channel_unavailable(clock: ManualClock) -> None:
    service = ChannelService(*[httpx.ConnectError("refused")] * 3)
    result = await client(service, clock).charge(charge())
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "channel_unavailable")


async def test_a_charge_sent_but_unanswered_is_unknown(clock: ManualClock) -> None:
    service = ChannelService(*[httpx.ReadTimeout("slow")] * 3)
    assert (await client(service, clock).charge(charge())).outcome is Outcome.UNKNOWN


@pytest.mark.parametrize("body", [b"{not json", b'{"outcome": "\xff"}'])
async def test_a_charge_answered_with_unreadable_bytes_is_unknown(
    body: bytes, clock: ManualClock
) -> None:
    """Money may have moved: the reconciler asks again, nothing raises past the port."""

    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    breakers = Breakers(clock=clock)
    http = RemoteService.open("channel:sandbox", "http://channel.test", breakers,
                              transport=httpx.MockTransport(answer))
    result = await RemoteChannelClient(http, SECRET).charge(charge())
    assert result.outcome is Outcome.UNKNOWN


async def test_an_open_breaker_fails_the_charge_fast(clock: ManualClock) -> None:
    service = ChannelService(*[503] * 10)
    remote = client(service, clock, threshold=3)
    await remote.charge(charge())
    result = await remote.charge(charge(payment_no="pay_2"))
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "channel_unavailable")
    assert len(service.requests) == 3


async def test_a_refused_charge_failed_but_a_refused_query_is_unknown(clock: ManualClock) -> None:
    remote = client(ChannelService(422, 404), clock)
    refused = await remote.charge(charge())
    queried = await remote.query_charge("pay_1", None)
    assert (refused.outcome, refused.failure_code) == (Outcome.FAILED, "invalid_request")
    assert queried.outcome is Outcome.UNKNOWN


async def test_the_unknown_charge_is_later_reported_succeeded(clock: ManualClock) -> None:
    remote = client(ChannelService(), clock)
    await remote.charge(charge("4000000000000259"))
    assert (await remote.query_charge("pay_1", None)).outcome is Outcome.SUCCEEDED


async def test_a_query_without_an_answer_is_unknown(clock: ManualClock) -> None:
    service = ChannelService(*[httpx.ConnectError("refused")] * 3)
    result = await client(service, clock).query_refund("ref_1", "re_1")
    assert (result.outcome, result.failure_code) == (Outcome.UNKNOWN, "channel_unavailable")


async def test_refunds_and_their_queries_cross_the_wire(clock: ManualClock) -> None:
    service = ChannelService()
    remote = client(service, clock)
    refund = await remote.refund(RefundRequest("ref_1", "pay_1", Money(13, "USD"), "ch_1"))
    queried = await remote.query_refund("ref_1", refund.reference)
    assert (refund.outcome, refund.failure_code) == (Outcome.FAILED, "refund_declined")
    assert queried == refund
    assert service.requests[0].headers["Idempotency-Key"] == "ref_1"


async def test_a_remote_token_charges_with_its_scenario(clock: ManualClock) -> None:
    remote = client(ChannelService(), clock)
    token = await remote.tokenize(CardDetails("4000000000000002", 1, 2031, "000"))
    result = await remote.charge(ChargeRequest("pay_9", "mer_1", Money(5, "USD"), token=token))
    assert result.failure_code == "card_declined"


async def test_tokenize_without_an_answer_raises_unavailable(clock: ManualClock) -> None:
    remote = client(ChannelService(*[503] * 3), clock)
    with pytest.raises(Unavailable):
        await remote.tokenize(CardDetails("4242424242424242", 1, 2031, "000"))


def test_notifications_from_the_service_are_verified_with_the_sandbox_secret(
    clock: ManualClock,
) -> None:
    event = ChannelEvent("evt_1", "charge.succeeded", "pay_1")
    now = datetime(2026, 11, 23, tzinfo=UTC)
    body, headers = sign_sandbox_notification(event, SECRET, int(now.timestamp()))
    assert client(ChannelService(), clock).parse_notification(headers, body, now) == event


async def test_the_wire_server_answers_unknown_routes_with_404() -> None:
    status, _ = await dispatch(SandboxChannel(SECRET), "DELETE", "/v1/charges/pay_1", {}, b"")
    assert status == 404


@pytest.mark.parametrize(
    "body",
    [b"{}", b'{"number": "4242424242424241", "exp_month": 1, "exp_year": 2031, "cvc": "1"}'],
)
async def test_the_wire_server_refuses_a_malformed_card_with_422(body: bytes) -> None:
    status, answer = await dispatch(SandboxChannel(SECRET), "POST", "/v1/tokens", {}, body)
    assert status == 422
    assert b"4242424242424241" not in answer


async def test_a_charge_refused_for_the_gateway_s_token_moved_no_money(
    clock: ManualClock,
) -> None:
    """401 comes before any handler: nothing was charged, and the fault is the gateway's
    set-up, not the card's: the payment fails as with the channel down (ADR 0011)."""
    remote = client(ChannelService(401), clock)
    refused = await remote.charge(charge())
    assert (refused.outcome, refused.failure_code) == (Outcome.FAILED, "channel_unavailable")
