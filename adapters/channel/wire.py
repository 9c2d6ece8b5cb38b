"""The remote channel service's wire format, shared by its client and its server.

    POST /v1/tokens                  CardBody               -> 200 TokenBody
    POST /v1/charges                 ChargeBody             -> 200 ResultBody
    POST /v1/authorizations          ChargeBody             -> 200 ResultBody
    POST /v1/captures                CaptureBody            -> 200 ResultBody
    POST /v1/voids                   VoidBody               -> 200 ResultBody
    POST /v1/refunds                 RefundBody             -> 200 ResultBody
    GET  /v1/{charges|captures|voids}/{payment_no}?reference=...   -> 200 ResultBody
    GET  /v1/refunds/{refund_no}?reference=...              -> 200 ResultBody
    anything malformed                                      -> 422 ErrorBody

POSTs carry `Idempotency-Key` (the request's own); the channel behind the service is
idempotent on it, which is what lets the client retry them. Outcomes travel as data
(`"outcome": "failed"`), never as HTTP errors: a 200 means "the channel answered". A
query of a charge answers for an authorization too.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from application.ports.channel import (
    CaptureRequest,
    ChargeRequest,
    ChargeResult,
    Outcome,
    RefundRequest,
    RefundResult,
    VoidRequest,
)
from domain.card import CardDetails
from domain.money import Money

TOKENS_PATH = "/v1/tokens"
CHARGES_PATH = "/v1/charges"
AUTHORIZATIONS_PATH = "/v1/authorizations"
CAPTURES_PATH = "/v1/captures"
VOIDS_PATH = "/v1/voids"
REFUNDS_PATH = "/v1/refunds"


class CardBody(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    exp_month: int
    exp_year: int
    cvc: str

    def __repr__(self) -> str:
        return "CardBody(<hidden>)"


class TokenBody(msgspec.Struct, frozen=True):
    token: str


class ChargeBody(msgspec.Struct, frozen=True, kw_only=True):
    payment_no: str
    merchant_id: str
    amount: int
    currency: str
    card: CardBody | None = None
    token: str | None = None
    description: str | None = None
    attempt_key: str | None = None  # a routed payment's later attempt (docs/adr/0025)


class RefundBody(msgspec.Struct, frozen=True, kw_only=True):
    refund_no: str
    payment_no: str
    amount: int
    currency: str
    charge_reference: str | None = None


class CaptureBody(msgspec.Struct, frozen=True, kw_only=True):
    payment_no: str
    merchant_id: str
    amount: int
    currency: str
    reference: str | None = None


class VoidBody(msgspec.Struct, frozen=True, kw_only=True):
    payment_no: str
    merchant_id: str
    reference: str | None = None


class ResultBody(msgspec.Struct, frozen=True, kw_only=True):
    outcome: Outcome
    reference: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    capture_before: datetime | None = None  # RFC 3339; an authorization's hold


class ErrorBody(msgspec.Struct, frozen=True):
    error: str


def card_to_wire(card: CardDetails) -> CardBody:
    return CardBody(
        number=card.number, exp_month=card.exp_month, exp_year=card.exp_year, cvc=card.cvc
    )


def card_from_wire(body: CardBody) -> CardDetails:
    """Raises `InvalidCard` (a DomainError) for a number that is not a card."""
    return CardDetails(body.number, body.exp_month, body.exp_year, body.cvc)


def charge_to_wire(request: ChargeRequest) -> ChargeBody:
    return ChargeBody(
        payment_no=request.payment_no,
        merchant_id=request.merchant_id,
        amount=request.amount.amount,
        currency=request.amount.currency,
        card=card_to_wire(request.card) if request.card else None,
        token=request.token,
        description=request.description,
        attempt_key=request.attempt_key,
    )


def charge_from_wire(body: ChargeBody) -> ChargeRequest:
    return ChargeRequest(
        body.payment_no,
        body.merchant_id,
        Money.positive(body.amount, body.currency),
        card=card_from_wire(body.card) if body.card else None,
        token=body.token,
        description=body.description,
        attempt_key=body.attempt_key,
    )


def refund_to_wire(request: RefundRequest) -> RefundBody:
    return RefundBody(
        refund_no=request.refund_no,
        payment_no=request.payment_no,
        amount=request.amount.amount,
        currency=request.amount.currency,
        charge_reference=request.charge_reference,
    )


def refund_from_wire(body: RefundBody) -> RefundRequest:
    return RefundRequest(
        body.refund_no,
        body.payment_no,
        Money.positive(body.amount, body.currency),
        body.charge_reference,
    )


def capture_to_wire(request: CaptureRequest) -> CaptureBody:
    return CaptureBody(
        payment_no=request.payment_no,
        merchant_id=request.merchant_id,
        amount=request.amount.amount,
        currency=request.amount.currency,
        reference=request.reference,
    )


def capture_from_wire(body: CaptureBody) -> CaptureRequest:
    amount = Money.positive(body.amount, body.currency)
    return CaptureRequest(body.payment_no, body.merchant_id, amount, body.reference)


def void_to_wire(request: VoidRequest) -> VoidBody:
    return VoidBody(
        payment_no=request.payment_no, merchant_id=request.merchant_id, reference=request.reference
    )


def void_from_wire(body: VoidBody) -> VoidRequest:
    return VoidRequest(body.payment_no, body.merchant_id, body.reference)


def result_to_wire(result: ChargeResult | RefundResult) -> ResultBody:
    return ResultBody(
        outcome=result.outcome,
        reference=result.reference,
        failure_code=result.failure_code,
        failure_message=result.failure_message,
        capture_before=getattr(result, "capture_before", None),
    )


def charge_result_from_wire(body: ResultBody) -> ChargeResult:
    return ChargeResult(
        body.outcome, body.reference, body.failure_code, body.failure_message, body.capture_before
    )


def refund_result_from_wire(body: ResultBody) -> RefundResult:
    return RefundResult(body.outcome, body.reference, body.failure_code, body.failure_message)
