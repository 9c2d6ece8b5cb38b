"""Span attributes read from commands, requests and results through an allowlist.

A command may carry a card, a CVC or a customer's e-mail; these functions only ever read
the fields named here, so such data cannot reach a span whatever the command looks like.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

AttributeValue = str | int | float | bool
Attributes = dict[str, AttributeValue]
Extractor = Callable[[object], Attributes]

_IDENTIFIERS: Final = (
    "merchant_id", "payment_no", "order_no", "refund_no", "channel", "attempt_key")
_RESULT_FIELDS: Final = ("status", "outcome", "failure_code")
_INT64: Final = range(-(2**63), 2**63)  # what an OTLP attribute's int holds


def business_attributes(obj: object) -> Attributes:
    """merchant_id, payment_no, order_no, refund_no, channel, amount, currency, status...

    Read for every recorded business span, before and after its call: written flat, with
    no call for what `obj` does not have (a command has no risk, a result no actor)."""
    attributes: Attributes = {}
    if obj is None:
        return attributes
    for name in _IDENTIFIERS:
        value = getattr(obj, name, None)
        if isinstance(value, str):
            attributes[name] = value
    amount = getattr(obj, "amount", None)
    minor = getattr(amount, "amount", amount)  # a Money, or an int amount (minor_units)
    if isinstance(minor, int) and not isinstance(minor, bool) and minor in _INT64:
        attributes["amount"] = minor  # beyond int64 (refused input) a span cannot carry it
    currency = getattr(obj, "currency", None)  # currency_of: the object's, else its Money's
    if currency is None:
        currency = getattr(amount, "currency", None)
    if isinstance(currency, str):
        attributes["currency"] = currency
    for name in _RESULT_FIELDS:
        value = getattr(obj, name, None)
        if isinstance(value, str):  # StrEnum included
            attributes[name] = str(value)
    risk = getattr(obj, "risk", None)
    if risk is not None:
        attributes.update(risk_attributes(risk))
    actor = getattr(obj, "actor", None)
    if actor is not None:
        attributes.update(operator_attributes(actor))
    return attributes


def operator_attributes(actor: object) -> Attributes:
    """paygate.operator and paygate.operator.role of the operator a command acts for."""
    name, role = getattr(actor, "name", None), getattr(actor, "role", None)
    if not isinstance(name, str):
        return {}
    attributes: Attributes = {"paygate.operator": name}
    if isinstance(role, str):
        attributes["paygate.operator.role"] = str(role)
    return attributes


def risk_attributes(decision: object) -> Attributes:
    """risk.decision and risk.score of a RiskDecision (or of nothing)."""
    verdict = getattr(decision, "verdict", None)
    score = getattr(decision, "score", None)
    attributes: Attributes = {}
    if isinstance(verdict, str):
        attributes["risk.decision"] = str(verdict)
    if isinstance(score, int) and not isinstance(score, bool):
        attributes["risk.score"] = score
    return attributes


def refund_outcome_attributes(outcome: object) -> Attributes:
    """The refund's attributes plus the status its payment reached."""
    attributes = business_attributes(getattr(outcome, "refund", outcome))
    payment_status = getattr(getattr(outcome, "payment", None), "status", None)
    if isinstance(payment_status, str):
        attributes["payment.status"] = str(payment_status)
    return attributes


def settlement_attributes(settlements: object) -> Attributes:
    if isinstance(settlements, list | tuple):
        return {"settlement.count": len(settlements)}
    return {}


def no_attributes(_: object) -> Attributes:
    return {}
