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

    Read for every recorded business span, before and after its call: written flat, and
    only the names `obj`'s type can answer are asked for (`_readable`), since asking an
    object for a name it lacks is the dearest lookup there is."""
    attributes: Attributes = {}
    if obj is None:
        return attributes
    kind = type(obj)
    fields = _readable_by_type.get(kind)
    if fields is None:
        fields = _remember_readable(kind)
    identifiers, money, results, risk_and_actor = fields
    for name in identifiers:
        value = getattr(obj, name, None)
        if isinstance(value, str):
            attributes[name] = value
    if money:
        amount = getattr(obj, "amount", None)
        minor = getattr(amount, "amount", amount)  # a Money, or an int amount (minor_units)
        if isinstance(minor, int) and not isinstance(minor, bool) and minor in _INT64:
            attributes["amount"] = minor  # beyond int64 (refused input) a span cannot carry it
        currency = getattr(obj, "currency", None)  # currency_of: the object's, else its Money's
        if currency is None:
            currency = getattr(amount, "currency", None)
        if isinstance(currency, str):
            attributes["currency"] = currency
    for name in results:
        value = getattr(obj, name, None)
        if isinstance(value, str):  # StrEnum included
            attributes[name] = str(value)
    if risk_and_actor:
        risk = getattr(obj, "risk", None)
        if risk is not None:
            attributes.update(risk_attributes(risk))
        actor = getattr(obj, "actor", None)
        if actor is not None:
            attributes.update(operator_attributes(actor))
    return attributes


# Which of the names above a type can answer: (identifiers, amount or currency, result
# fields, risk or actor). Kept per type, a few dozen of them in a process.
_Readable = tuple[tuple[str, ...], bool, tuple[str, ...], bool]
_EVERY_NAME: Final[_Readable] = (_IDENTIFIERS, True, _RESULT_FIELDS, True)
_readable_by_type: dict[type, _Readable] = {}
_TYPES_KEPT: Final = 1024
_GENERIC_LOOKUP: Final[object] = object.__getattribute__
_NO_NAME: Final[_Readable] = ((), False, (), False)
_PLAIN_VALUES: Final = frozenset({str, int, float, bool, bytes})


def _remember_readable(kind: type) -> _Readable:
    fields = _readable(kind)
    if len(_readable_by_type) >= _TYPES_KEPT:  # types made on the fly would grow it
        _readable_by_type.clear()
    _readable_by_type[kind] = fields
    return fields


def _readable(kind: type) -> _Readable:
    """The names an instance of `kind` may answer. A type whose instances have no
    `__dict__` and that answers no name through `__getattr__` (a slotted dataclass, a
    `msgspec.Struct`, a `str`) answers exactly what the type itself declares: its slots,
    properties and class attributes. Any other type (one with its own `__getattribute__`,
    or an instance `__dict__`) is asked for every name. A plain string or number (an
    order book answers with the order's number) declares none of them."""
    if kind in _PLAIN_VALUES:
        return _NO_NAME
    if (getattr(kind, "__getattr__", None) is not None
            or kind.__getattribute__ is not _GENERIC_LOOKUP
            or any("__dict__" in vars(base) for base in kind.__mro__)):
        return _EVERY_NAME

    def declared(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name for name in names if hasattr(kind, name))

    return (declared(_IDENTIFIERS), bool(declared(("amount", "currency"))),
            declared(_RESULT_FIELDS), bool(declared(("risk", "actor"))))


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
