"""`RiskPort` over HTTP, to a remote risk service running the same rule engine."""

from __future__ import annotations

from adapters.resilience import RemoteService
from adapters.risk.fingerprint import CardFingerprinter
from adapters.risk.wire import ASSESS_PATH, decode_decision, encode_facts, facts_of
from application.ports.external import RiskRequest
from domain.risk import RiskDecision


class RemoteRiskClient:
    """Asks `POST /v1/risk/assess`; raises `Unavailable` whenever it gets no usable answer.

    The assessment is retried on timeouts and 5xx: the service counts velocity once per
    payment_no, so asking twice about one payment changes nothing.
    """

    def __init__(self, service: RemoteService, fingerprints: CardFingerprinter) -> None:
        self._service = service
        self._fingerprints = fingerprints

    async def assess(self, request: RiskRequest) -> RiskDecision:
        body = encode_facts(facts_of(request, self._fingerprints))
        return await self._service.exchange(ASSESS_PATH, body, decode_decision)

    async def aclose(self) -> None:
        await self._service.aclose()
