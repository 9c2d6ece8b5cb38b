"""`RiskPort` over HTTP, to a remote risk service running the same rule engine."""

from __future__ import annotations

import msgspec

from adapters.resilience import DependencyError, RemoteService
from adapters.risk.fingerprint import CardFingerprinter
from adapters.risk.wire import ASSESS_PATH, decode_decision, encode_facts, facts_of
from application.errors import Unavailable
from application.ports.external import RiskRequest
from domain.errors import InvalidRiskDecision
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
        try:
            response = await self._service.request(
                "POST",
                ASSESS_PATH,
                idempotent=True,
                content=body,
                headers={"Content-Type": "application/json"},
            )
        except DependencyError as exc:
            raise Unavailable(f"risk service: {exc}") from exc
        if response.status_code != 200:
            raise Unavailable(f"risk service answered {response.status_code}")
        try:
            return decode_decision(response.content)
        except (msgspec.DecodeError, UnicodeDecodeError, InvalidRiskDecision) as exc:
            raise Unavailable(f"risk service answered nonsense: {exc}") from exc

    async def aclose(self) -> None:
        await self._service.aclose()
