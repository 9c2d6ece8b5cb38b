"""The remote risk client and the wire format it shares with the risk service."""

from __future__ import annotations

import json

import httpx
import pytest

from adapters.resilience import Breakers, Policy, RemoteService
from adapters.risk import CardFingerprinter, RemoteRiskClient, RiskSettings, RuleEngine
from adapters.risk.wire import MalformedRiskRequest, answer_assessment
from application.errors import Unavailable
from application.ports.external import RiskRequest
from domain.card import CardDetails
from domain.money import Money
from domain.risk import Verdict
from tests.unit.adapters.adapter_fakes import ManualClock

KEY = "unit-test-fingerprint-key"
FAST = Policy(timeout=1.0, attempts=2, wait_initial=0.001, wait_max=0.001, wait_jitter=0)
REVIEW_CARD = "4000000000004954"


def risk_request(number: str = REVIEW_CARD) -> RiskRequest:
    card = CardDetails(number, 12, 2030, "987")
    return RiskRequest(
        "mer_1",
        "pay_1",
        "O-1",
        Money(2500, "EUR"),
        card,
        "cus_1",
        "Someone@Example.COM",
        "203.0.113.7",
    )


class RiskService:
    """The server side, as serve-risk will run it: the wire module around a real engine."""

    def __init__(self, *statuses: int) -> None:
        self.engine = RuleEngine(RiskSettings(fingerprint_key=KEY))
        self.statuses = list(statuses)
        self.bodies: list[bytes] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.content)
        if self.statuses:
            return httpx.Response(self.statuses.pop(0))
        assert request.url.path == "/v1/risk/assess"
        return httpx.Response(200, content=await answer_assessment(self.engine, request.content))


def client(
    handler: RiskService | httpx.MockTransport, clock: ManualClock, threshold: int = 5
) -> tuple[RemoteRiskClient, Breakers]:
    breakers = Breakers(failure_threshold=threshold, clock=clock)
    transport = (
        handler if isinstance(handler, httpx.MockTransport) else httpx.MockTransport(handler)
    )
    service = RemoteService.open("risk", "http://risk.test", breakers, FAST, transport=transport)
    return RemoteRiskClient(service, CardFingerprinter(KEY)), breakers


async def test_remote_decision_matches_the_in_process_engine(clock: ManualClock) -> None:
    remote, _ = client(RiskService(), clock)
    decision = await remote.assess(risk_request())
    assert (decision.verdict, decision.reasons) == (Verdict.REVIEW, ("card_on_review_list",))


async def test_the_card_number_and_cvc_never_leave_the_gateway(clock: ManualClock) -> None:
    service = RiskService()
    remote, _ = client(service, clock)
    await remote.assess(risk_request())
    sent = json.loads(service.bodies[0])
    assert REVIEW_CARD not in service.bodies[0].decode()
    assert "987" not in json.dumps(sent)
    assert sent["card_fingerprint"] == CardFingerprinter(KEY).of(REVIEW_CARD)
    assert (sent["card_bin"], sent["card_last4"], sent["card_brand"]) == ("400000", "4954", "visa")
    assert (sent["email_domain"], sent["amount"], sent["currency"]) == ("example.com", 2500, "EUR")


async def test_a_failed_assessment_is_retried(clock: ManualClock) -> None:
    service = RiskService(503)
    remote, _ = client(service, clock)
    assert (await remote.assess(risk_request("4242424242424242"))).verdict is Verdict.APPROVE
    assert len(service.bodies) == 2


async def test_no_answer_raises_unavailable(clock: ManualClock) -> None:
    remote, _ = client(RiskService(503, 503), clock)
    with pytest.raises(Unavailable):
        await remote.assess(risk_request())


@pytest.mark.parametrize("answer", [b"not json", b'{"decision": "approve", "score": 400}'])
async def test_a_nonsense_answer_raises_unavailable(clock: ManualClock, answer: bytes) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=answer))
    remote, _ = client(transport, clock)
    with pytest.raises(Unavailable):
        await remote.assess(risk_request())


async def test_an_open_breaker_raises_unavailable_without_calling(clock: ManualClock) -> None:
    service = RiskService(*[503] * 10)
    remote, breakers = client(service, clock, threshold=2)
    with pytest.raises(Unavailable):
        await remote.assess(risk_request())
    with pytest.raises(Unavailable, match="circuit breaker is open"):
        await remote.assess(risk_request())
    assert len(service.bodies) == 2
    assert breakers.states() == {"risk": "open"}


async def test_the_server_side_refuses_a_malformed_body() -> None:
    with pytest.raises(MalformedRiskRequest):
        await answer_assessment(RuleEngine(RiskSettings(fingerprint_key=KEY)), b'{"amount": 1}')


async def test_a_service_that_refuses_the_gateway_s_token_is_unavailable(
    clock: ManualClock,
) -> None:
    """401: the gateway and the service do not share PAYGATE_SERVICE_TOKEN (ADR 0011)."""
    remote, _ = client(RiskService(401), clock)
    with pytest.raises(Unavailable, match="401"):
        await remote.assess(risk_request())
