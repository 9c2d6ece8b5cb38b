"""What a charge or refund result is when the channel gave no usable answer.

Nothing sent (breaker open, connection refused, throttled): FAILED `channel_unavailable`,
safe to try again later. Sent but unanswered (timeout, dropped, 5xx): UNKNOWN, because
money may have moved; the payment waits for a notification or the reconciler.
"""

from __future__ import annotations

from typing import TypeVar

from adapters.resilience import DependencyError
from application.ports.channel import NOT_SENT, ChargeResult, Outcome, RefundResult

CHANNEL_UNAVAILABLE = NOT_SENT
R = TypeVar("R", ChargeResult, RefundResult)


def without_answer(kind: type[R], exc: DependencyError) -> R:
    """A charge, authorization, capture, void or refund that got no answer."""
    if exc.sent:
        return kind(Outcome.UNKNOWN, failure_message=str(exc))
    return kind(Outcome.FAILED, None, CHANNEL_UNAVAILABLE, str(exc))


def unanswered_query(kind: type[R], exc: Exception) -> R:
    """A query that got no answer tells the reconciler nothing: try again later."""
    return kind(Outcome.UNKNOWN, None, CHANNEL_UNAVAILABLE, str(exc))


def charge_without_answer(exc: DependencyError) -> ChargeResult:
    return without_answer(ChargeResult, exc)


def refund_without_answer(exc: DependencyError) -> RefundResult:
    return without_answer(RefundResult, exc)


def unknown_charge(exc: Exception) -> ChargeResult:
    return unanswered_query(ChargeResult, exc)


def unknown_refund(exc: Exception) -> RefundResult:
    return unanswered_query(RefundResult, exc)
