"""Every failure class of every channel adapter, and whether it fails over (docs/adr/0026).

Each adapter classifies its own errors into an outcome and a failure code; the domain's
`classify` and `may_fail_over` turn that into "the next channel may be tried" or not. These
tests drive each adapter to each kind of failure it can produce and check the verdict, so a
change in how an adapter reports a failure cannot silently turn a maybe-charged payment
into a failover.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from adapters.channel.remote import RemoteChannelClient
from adapters.channel.sandbox import SandboxChannel
from adapters.channel.stripe_channel import StripeChannel
from adapters.channel.wire_server import dispatch
from adapters.resilience import Breakers, Policy, RemoteService
from application.ports.channel import ChargeRequest, ChargeResult
from domain.card import CardDetails
from domain.money import Money
from domain.routing import FailureClass, classify, may_fail_over
from tests.unit.adapters.adapter_fakes import ManualClock

SECRET = "sandbox-test-secret"
ONCE = Policy(timeout=0.5, attempts=1, wait_initial=0.001, wait_max=0.001, wait_jitter=0)
OK = "4242424242424242"
Handler = Callable[[httpx.Request], httpx.Response]


def request(number: str = OK, token: str | None = None) -> ChargeRequest:
    card = None if token else CardDetails(number, 12, 2030, "123")
    return ChargeRequest("pay_1", "mer_1", Money(10_000, "USD"), card=card, token=token)


def verdict(result: ChargeResult) -> tuple[FailureClass | None, bool]:
    failure = classify(result.outcome, result.failure_code)
    return failure, may_fail_over(failure)


# -- the sandbox, in process ---------------------------------------------------------
@pytest.mark.parametrize(
    ("number", "failure", "fails_over"),
    [
        (OK, None, False),
        ("4000000000000002", FailureClass.DECLINED, False),  # card_declined
        ("4000000000009995", FailureClass.DECLINED, False),  # insufficient_funds
        ("4000000000000119", FailureClass.NOTHING_DONE, True),  # processing_error
        ("4000000000000259", FailureClass.UNKNOWN, False),  # the answer is lost
    ],
)
async def test_sandbox_test_cards(number: str, failure: FailureClass | None,
                                  fails_over: bool) -> None:
    result = await SandboxChannel(SECRET).charge(request(number))
    assert verdict(result) == (failure, fails_over)


async def test_sandbox_expired_card_is_the_cards_answer() -> None:
    expired = ChargeRequest("pay_1", "mer_1", Money(1, "USD"),
                            card=CardDetails(OK, 1, 2020, "123"))
    result = await SandboxChannel(SECRET).charge(expired)
    assert result.failure_code == "expired_card"
    assert verdict(result) == (FailureClass.DECLINED, False)


async def test_sandbox_foreign_token_is_a_refusal_that_never_fails_over() -> None:
    """A token another channel issued: refused, and kept off other channels anyway."""
    result = await SandboxChannel(SECRET).charge(request(token="tok_other"))
    assert result.failure_code == "invalid_token"
    assert verdict(result) == (FailureClass.DECLINED, False)


# -- the remote channel service (serve-channel) over HTTP ------------------------------
def remote(handler: Handler, breakers: Breakers | None = None) -> RemoteChannelClient:
    service = RemoteService.open(
        "channel:sandbox", "http://channel.test",
        breakers or Breakers(failure_threshold=5, clock=ManualClock()), ONCE,
        transport=httpx.MockTransport(handler))
    return RemoteChannelClient(service, SECRET)


def raising(error: Exception) -> Handler:
    def handler(req: httpx.Request) -> httpx.Response:
        raise error
    return handler


def answering(status: int, content: bytes = b"{}") -> Handler:
    return lambda req: httpx.Response(status, content=content)


async def sandbox_behind(req: httpx.Request) -> httpx.Response:
    status, body = await dispatch(SandboxChannel(SECRET), req.method, req.url.path,
                                  dict(req.url.params), req.content)
    return httpx.Response(status, content=body)


@pytest.mark.parametrize(
    ("handler", "failure", "fails_over"),
    [
        (raising(httpx.ConnectError("refused")), FailureClass.NOT_SENT, True),
        (raising(httpx.ConnectTimeout("no SYN-ACK")), FailureClass.NOT_SENT, True),
        (answering(401), FailureClass.NOT_SENT, True),  # credentials refused before acting
        (answering(429), FailureClass.NOT_SENT, True),  # throttled: not taken in
        (answering(422, b'{"message": "bad card"}'), FailureClass.NOTHING_DONE, True),
        (raising(httpx.ReadTimeout("no answer")), FailureClass.UNKNOWN, False),
        (raising(httpx.RemoteProtocolError("dropped")), FailureClass.UNKNOWN, False),
        (answering(500), FailureClass.UNKNOWN, False),
        (answering(503), FailureClass.UNKNOWN, False),
        (answering(200, b"not json"), FailureClass.UNKNOWN, False),
    ],
)
async def test_remote_channel_transport_failures(
    handler: Handler, failure: FailureClass, fails_over: bool
) -> None:
    result = await remote(handler).charge(request())
    assert verdict(result) == (failure, fails_over)


async def test_remote_channel_open_breaker_fails_over() -> None:
    breakers = Breakers(failure_threshold=1, clock=ManualClock())
    client = remote(raising(httpx.ConnectError("refused")), breakers)
    await client.charge(request())  # opens the breaker
    calls: list[httpx.Request] = []

    def counted(req: httpx.Request) -> httpx.Response:
        calls.append(req)
        return httpx.Response(200)

    opened = remote(counted, breakers)
    result = await opened.charge(request())
    assert calls == []
    assert verdict(result) == (FailureClass.NOT_SENT, True)


@pytest.mark.parametrize(
    ("number", "failure", "fails_over"),
    [
        ("4000000000000002", FailureClass.DECLINED, False),
        ("4000000000000119", FailureClass.NOTHING_DONE, True),
        ("4000000000000259", FailureClass.UNKNOWN, False),
    ],
)
async def test_remote_channel_forwards_the_sandboxs_answers(
    number: str, failure: FailureClass, fails_over: bool
) -> None:
    result = await remote(sandbox_behind).charge(request(number))
    assert verdict(result) == (failure, fails_over)


# -- Stripe ------------------------------------------------------------------------------
def stripe(handler: Handler) -> StripeChannel:
    breakers = Breakers(failure_threshold=5, clock=ManualClock())
    return StripeChannel.connect("sk_test", "whsec", breakers, policy=ONCE,
                                 transport=httpx.MockTransport(handler))


def stripe_error(status: int, error: dict[str, str]) -> Handler:
    return lambda req: httpx.Response(status, json={"error": error})


def intent(status: str, **extra: object) -> Handler:
    return lambda req: httpx.Response(200, json={"id": "pi_1", "status": status, **extra})


@pytest.mark.parametrize(
    ("handler", "failure", "fails_over"),
    [
        (intent("succeeded"), None, False),
        (stripe_error(402, {"type": "card_error", "code": "card_declined"}),
         FailureClass.DECLINED, False),
        (stripe_error(402, {"type": "card_error", "decline_code": "insufficient_funds"}),
         FailureClass.DECLINED, False),
        (stripe_error(402, {"type": "card_error", "code": "expired_card"}),
         FailureClass.DECLINED, False),
        (stripe_error(402, {"type": "card_error", "code": "incorrect_cvc"}),
         FailureClass.DECLINED, False),
        (stripe_error(402, {"type": "card_error", "code": "something_new"}),
         FailureClass.DECLINED, False),
        (stripe_error(402, {"type": "card_error", "code": "processing_error"}),
         FailureClass.NOTHING_DONE, True),
        (stripe_error(400, {"type": "invalid_request_error", "code": "parameter_invalid"}),
         FailureClass.NOTHING_DONE, True),
        (intent("requires_action"), FailureClass.DECLINED, False),  # authentication_required
        (intent("requires_payment_method",
                last_payment_error={"code": "card_declined"}), FailureClass.DECLINED, False),
        (intent("requires_payment_method",
                last_payment_error={"code": "processing_error"}),
         FailureClass.NOTHING_DONE, True),
        (intent("processing"), FailureClass.UNKNOWN, False),
        (stripe_error(409, {"type": "idempotency_error"}), FailureClass.UNKNOWN, False),
        (answering(500), FailureClass.UNKNOWN, False),
        (raising(httpx.ReadTimeout("no answer")), FailureClass.UNKNOWN, False),
        (raising(httpx.ConnectError("refused")), FailureClass.NOT_SENT, True),
        (answering(401), FailureClass.NOT_SENT, True),
        (answering(429), FailureClass.NOT_SENT, True),
    ],
)
async def test_stripe_failures(handler: Handler, failure: FailureClass | None,
                               fails_over: bool) -> None:
    result = await stripe(handler).charge(request())
    assert verdict(result) == (failure, fails_over)


# -- each attempt under its own key --------------------------------------------------------
async def test_a_remote_channel_charges_a_later_attempt_under_its_own_key() -> None:
    behind = SandboxChannel(SECRET)

    async def service(req: httpx.Request) -> httpx.Response:
        status, body = await dispatch(behind, req.method, req.url.raw_path.decode(),
                                      dict(req.url.params), req.content)
        return httpx.Response(status, content=body)

    client = remote(service)
    second = ChargeRequest("pay_1", "mer_1", Money(100, "USD"),
                           card=CardDetails(OK, 12, 2030, "123"), attempt_key="pay_1.2")
    first = await client.charge(second)
    again = await client.charge(second)

    assert first == again
    assert (behind.charges_for("pay_1.2"), behind.charges_for("pay_1")) == (1, 0)
    assert (await client.query_charge("pay_1.2", None)).outcome.value == "succeeded"


async def test_stripe_finds_a_later_attempt_by_its_payment() -> None:
    searched: list[str] = []

    def search(req: httpx.Request) -> httpx.Response:
        searched.append(req.url.params["query"])
        return httpx.Response(200, json={"data": [{"id": "pi_1", "status": "succeeded"}]})

    result = await stripe(search).query_charge("pay_1.2", None)

    assert searched == ["metadata['payment_no']:'pay_1'"]
    assert verdict(result) == (None, False)
