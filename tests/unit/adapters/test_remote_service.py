"""Timeouts, idempotent-only retries, `sent` classification and trace context."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import msgspec
import pytest
from opentelemetry.sdk.trace import TracerProvider

from adapters.resilience import Breakers, DependencyError, Policy, RemoteService
from adapters.resilience.errors import CircuitOpen, CredentialsRefused
from application.errors import Unavailable
from tests.unit.adapters.adapter_fakes import ManualClock

RETRYING = Policy(timeout=1.0, attempts=3, wait_initial=0.001, wait_max=0.002, wait_jitter=0)

Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers each request with the next step: a status code or an exception to raise."""

    def __init__(self, *steps: int | Exception) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return httpx.Response(step, json={"ok": step < 400})


def remote(script: Handler, clock: ManualClock) -> RemoteService:
    breakers = Breakers(failure_threshold=10, clock=clock)
    return RemoteService.open(
        "order", "http://order.test", breakers, RETRYING, transport=httpx.MockTransport(script)
    )


async def test_idempotent_call_is_retried_until_it_succeeds(clock: ManualClock) -> None:
    script = Script(503, 502, 200)
    response = await remote(script, clock).request("GET", "/v1/x", idempotent=True)
    assert response.status_code == 200
    assert len(script.requests) == 3


async def test_retries_are_bounded_and_the_last_failure_is_raised(clock: ManualClock) -> None:
    script = Script(500)
    with pytest.raises(DependencyError) as raised:
        await remote(script, clock).request("GET", "/v1/x", idempotent=True)
    assert len(script.requests) == RETRYING.attempts
    assert (raised.value.status, raised.value.sent) == (500, True)


async def test_non_idempotent_call_is_sent_once(clock: ManualClock) -> None:
    script = Script(503, 200)
    with pytest.raises(DependencyError):
        await remote(script, clock).request("POST", "/v1/x", idempotent=False)
    assert len(script.requests) == 1


async def test_connection_refused_means_nothing_was_sent(clock: ManualClock) -> None:
    script = Script(httpx.ConnectError("refused"))
    with pytest.raises(DependencyError) as raised:
        await remote(script, clock).request("POST", "/v1/x", idempotent=False)
    assert raised.value.sent is False


async def test_read_timeout_means_the_request_may_have_arrived(clock: ManualClock) -> None:
    script = Script(httpx.ReadTimeout("slow"))
    with pytest.raises(DependencyError) as raised:
        await remote(script, clock).request("POST", "/v1/x", idempotent=False)
    assert raised.value.sent is True


async def test_rate_limited_answer_counts_as_not_sent(clock: ManualClock) -> None:
    with pytest.raises(DependencyError) as raised:
        await remote(Script(429), clock).request("POST", "/v1/x", idempotent=False)
    assert (raised.value.status, raised.value.sent) == (429, False)


async def test_headers_survive_every_retry(clock: ManualClock) -> None:
    script = Script(503, 200)
    await remote(script, clock).request(
        "POST", "/v1/x", idempotent=True, headers={"Idempotency-Key": "pay_1"}
    )
    assert [r.headers.get("Idempotency-Key") for r in script.requests] == ["pay_1", "pay_1"]


async def test_outgoing_request_carries_the_current_trace(clock: ManualClock) -> None:
    script = Script(200)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("CreatePayment") as span:
        await remote(script, clock).request("GET", "/v1/x", idempotent=True)
        trace_id = format(span.get_span_context().trace_id, "032x")
    assert script.requests[0].headers["traceparent"].split("-")[1] == trace_id


async def test_without_a_current_span_no_trace_header_is_invented(clock: ManualClock) -> None:
    script = Script(200)
    await remote(script, clock).request("GET", "/v1/x", idempotent=True)
    assert "traceparent" not in script.requests[0].headers


async def test_a_call_that_may_have_arrived_once_stays_maybe_sent(clock: ManualClock) -> None:
    script = Script(httpx.ReadTimeout("slow"), httpx.ConnectError("refused"))
    with pytest.raises(DependencyError) as raised:
        await remote(script, clock).request("POST", "/v1/charges", idempotent=True)
    assert len(script.requests) == RETRYING.attempts
    assert raised.value.sent is True


async def test_a_breaker_opening_mid_retry_keeps_the_call_maybe_sent(clock: ManualClock) -> None:
    script = Script(500)
    breakers = Breakers(failure_threshold=2, clock=clock)
    service = RemoteService.open(
        "channel:x", "http://x.test", breakers, RETRYING, transport=httpx.MockTransport(script)
    )
    with pytest.raises(DependencyError) as raised:
        await service.request("POST", "/v1/charges", idempotent=True)
    assert len(script.requests) == 2
    assert raised.value.sent is True


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_credentials_are_raised_at_once(status: int, clock: ManualClock) -> None:
    """Asking again cannot change the answer, and a refusal comes before any work."""
    script = Script(status)
    with pytest.raises(CredentialsRefused) as raised:
        await remote(script, clock).request("POST", "/v1/charges", idempotent=True)
    assert len(script.requests) == 1
    assert (raised.value.status, raised.value.sent) == (status, False)
    assert "credentials" in str(raised.value)


async def test_refused_credentials_open_the_breaker(clock: ManualClock) -> None:
    """A gateway whose token the service refuses shows it in readiness, not only in failed
    payments."""
    script = Script(401)
    breakers = Breakers(failure_threshold=2, clock=clock)
    service = RemoteService.open(
        "channel", "http://x.test", breakers, RETRYING, transport=httpx.MockTransport(script)
    )
    for _ in range(2):
        with pytest.raises(CredentialsRefused):
            await service.request("POST", "/v1/charges", idempotent=True)
    with pytest.raises(CircuitOpen):
        await service.request("POST", "/v1/charges", idempotent=True)
    assert len(script.requests) == 2
    assert breakers.states() == {"channel": "open"}


@pytest.mark.parametrize("status", [400, 404, 409, 422])
async def test_other_refusals_are_answers(status: int, clock: ManualClock) -> None:
    script = Script(status)
    response = await remote(script, clock).request("POST", "/v1/x", idempotent=True)
    assert response.status_code == status
    assert len(script.requests) == 1


class TestExchange:
    """post → no answer or a bad one is Unavailable → decoded answer: every client's call."""

    @staticmethod
    def answering(status: int, content: bytes) -> Callable[[httpx.Request], httpx.Response]:
        def answer(request: httpx.Request) -> httpx.Response:
            answer.requests.append(request)  # type: ignore[attr-defined]
            return httpx.Response(status, content=content)

        answer.requests = []  # type: ignore[attr-defined]
        return answer

    async def test_the_answer_is_decoded(self, clock: ManualClock) -> None:
        answer = self.answering(200, b'{"n": 7}')
        decoded = await remote(answer, clock).exchange(
            "/v1/x", b"{}", lambda body: json.loads(body)["n"])
        assert decoded == 7
        [request] = answer.requests  # type: ignore[attr-defined]
        assert (request.method, request.headers["content-type"]) == ("POST", "application/json")
        assert "idempotency-key" not in request.headers

    async def test_the_idempotency_key_is_sent_with_every_attempt(
        self, clock: ManualClock
    ) -> None:
        script = Script(503, 200)
        await remote(script, clock).exchange("/v1/x", b"{}", bytes, key="pay_1")
        assert [r.headers["idempotency-key"] for r in script.requests] == ["pay_1", "pay_1"]

    @pytest.mark.parametrize(
        ("handler", "said"),
        [
            (Script(httpx.ConnectError("refused")), "ConnectError"),
            (Script(404), "answered 404"),
        ],
    )
    async def test_no_answer_or_an_unexpected_status_is_unavailable(
        self, clock: ManualClock, handler: Handler, said: str
    ) -> None:
        with pytest.raises(Unavailable, match=said):
            await remote(handler, clock).exchange("/v1/x", b"{}", bytes)

    async def test_a_status_the_caller_accepts_is_an_answer(self, clock: ManualClock) -> None:
        answer = self.answering(204, b"")
        assert await remote(answer, clock).exchange("/v1/x", b"{}", len, ok={200, 204}) == 0

    async def test_an_answer_that_cannot_be_read_is_unavailable(self, clock: ManualClock) -> None:
        def refuse(body: bytes) -> object:
            return msgspec.json.decode(body, type=int)

        with pytest.raises(Unavailable, match="nonsense"):
            await remote(self.answering(200, b'"seven"'), clock).exchange("/v1/x", b"{}", refuse)
