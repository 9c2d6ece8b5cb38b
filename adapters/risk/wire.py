"""The remote risk service's wire format, used by both its client and its server.

    POST /v1/risk/assess   body: RiskFacts (JSON)   ->   200 RiskAnswer (JSON)
                                                         422 {"error": "..."} bad body

The card number and CVC never leave the gateway: the request carries the card's keyed
fingerprint, BIN, brand and last4, and the customer's e-mail *domain* only.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from adapters.risk.fingerprint import CardFingerprinter
from application.ports.external import RiskRequest
from domain.risk import RiskDecision, Verdict

ASSESS_PATH = "/v1/risk/assess"


class RiskFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the rules look at: a payment without its card number."""

    merchant_id: str
    payment_no: str
    order_no: str
    amount: int
    currency: str
    card_fingerprint: str | None = None
    card_bin: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    customer_id: str | None = None
    email_domain: str | None = None
    ip: str | None = None


class RiskAnswer(msgspec.Struct, frozen=True):
    decision: Verdict
    score: int
    reasons: list[str] = msgspec.field(default_factory=list)


class Evaluator(Protocol):
    async def evaluate(self, facts: RiskFacts) -> RiskDecision: ...


class MalformedRiskRequest(ValueError):
    """The body is not a RiskFacts document; the server answers 422."""


def facts_of(request: RiskRequest, fingerprints: CardFingerprinter) -> RiskFacts:
    card = request.card
    return RiskFacts(
        merchant_id=request.merchant_id,
        payment_no=request.payment_no,
        order_no=request.order_no,
        amount=request.amount.amount,
        currency=request.amount.currency,
        card_fingerprint=fingerprints.of(card.number) if card else None,
        card_bin=card.number[:6] if card else None,
        card_brand=card.summary.brand if card else None,
        card_last4=card.number[-4:] if card else None,
        customer_id=request.customer_id,
        email_domain=_domain(request.email),
        ip=request.ip,
    )


def _domain(email: str | None) -> str | None:
    domain = (email or "").rpartition("@")[2].strip().lower()
    return domain or None


def encode_facts(facts: RiskFacts) -> bytes:
    return msgspec.json.encode(facts)


def decode_facts(body: bytes) -> RiskFacts:
    try:
        return msgspec.json.decode(body, type=RiskFacts)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise MalformedRiskRequest(str(exc)) from exc


def encode_decision(decision: RiskDecision) -> bytes:
    return msgspec.json.encode(RiskAnswer(decision.verdict, decision.score, list(decision.reasons)))


def decode_decision(body: bytes) -> RiskDecision:
    """Raises `msgspec.DecodeError` or `InvalidRiskDecision` for an answer we cannot use."""
    answer = msgspec.json.decode(body, type=RiskAnswer)
    return RiskDecision(answer.decision, answer.score, tuple(answer.reasons))


async def answer_assessment(engine: Evaluator, body: bytes) -> bytes:
    """The whole server side of `POST /v1/risk/assess`: bytes in, bytes out.

    Raises `MalformedRiskRequest` (-> 422); anything the engine raises (e.g. `Unavailable`
    from a shared velocity store) propagates (-> 503).
    """
    return encode_decision(await engine.evaluate(decode_facts(body)))
