"""The built-in risk engine: rules add points, thresholds turn the score into a verdict."""

from __future__ import annotations

import time
from collections.abc import Callable

from adapters.risk.fingerprint import CardFingerprinter
from adapters.risk.rules import Hit, Lists, amount_hits, anonymity_hits, list_hits
from adapters.risk.settings import RiskSettings, VelocityRule
from adapters.risk.velocity import InMemoryVelocityCounter, VelocityCounter
from adapters.risk.wire import RiskFacts, facts_of
from application.ports.external import RiskRequest
from domain.risk import RiskDecision, Verdict


class RuleEngine:
    """Implements `RiskPort` in process; `evaluate` also serves the remote risk service.

    The score is the sum of the rules' points, capped at 100: `reject_at` or more
    rejects, `review_at` or more sends the payment to manual review, less approves.
    """

    def __init__(
        self,
        settings: RiskSettings,
        counter: VelocityCounter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.fingerprints = CardFingerprinter(settings.fingerprint_key)
        self._lists = Lists.build(settings, self.fingerprints)
        self._counter = counter or InMemoryVelocityCounter()
        self._clock = clock

    async def assess(self, request: RiskRequest) -> RiskDecision:
        return await self.evaluate(facts_of(request, self.fingerprints))

    async def evaluate(self, facts: RiskFacts) -> RiskDecision:
        hits = [
            *list_hits(facts, self._lists, self.settings),
            *amount_hits(facts, self.settings),
            *anonymity_hits(facts, self.settings),
            *await self._velocity_hits(facts),
        ]
        score = min(100, sum(hit.points for hit in hits))
        return RiskDecision(self._verdict(score), score, tuple(hit.reason for hit in hits))

    def _verdict(self, score: int) -> Verdict:
        if score >= self.settings.reject_at:
            return Verdict.REJECT
        if score >= self.settings.review_at:
            return Verdict.REVIEW
        return Verdict.APPROVE

    async def _velocity_hits(self, facts: RiskFacts) -> list[Hit]:
        """One event per merchant order: a payment assessed again (a retried request), or
        a duplicate of an order under a new payment_no (refused later, on insert), counts
        once."""
        now = self._clock()
        event = f"{facts.merchant_id}/{facts.order_no}"
        hits = []
        for rule in self.settings.velocity:
            subject = _subject(facts, rule)
            if subject is None:
                continue
            key = f"{rule.dimension}:{rule.window_seconds:g}:{subject}"
            count = await self._counter.hit(key, event, now, rule.window_seconds)
            if count > rule.max_count:
                hits.append(Hit(f"velocity_{rule.dimension}", rule.points))
        return hits


def _subject(facts: RiskFacts, rule: VelocityRule) -> str | None:
    if rule.dimension == "card":
        return facts.card_fingerprint
    if rule.dimension == "customer":
        return f"{facts.merchant_id}/{facts.customer_id}" if facts.customer_id else None
    return facts.ip
