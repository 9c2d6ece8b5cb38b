"""What a charge or refund result is when the channel gave no usable answer.

Nothing sent (breaker open, connection refused, throttled): FAILED `channel_unavailable`,
safe to try again later. Sent but unanswered (timeout, dropped, 5xx): UNKNOWN, because
money may have moved; the payment waits for a notification or the reconciler.
"""

from __future__ import annotations

from adapters.resilience import DependencyError
from application.ports.channel import ChargeResult, Outcome, RefundResult

CHANNEL_UNAVAILABLE = "channel_unavailable"


def charge_without_answer(exc: DependencyError) -> ChargeResult:
    if exc.sent:
        return ChargeResult(Outcome.UNKNOWN, failure_message=str(exc))
    return ChargeResult(Outcome.FAILED, None, CHANNEL_UNAVAILABLE, str(exc))


def refund_without_answer(exc: DependencyError) -> RefundResult:
    if exc.sent:
        return RefundResult(Outcome.UNKNOWN, failure_message=str(exc))
    return RefundResult(Outcome.FAILED, None, CHANNEL_UNAVAILABLE, str(exc))


def unknown_charge(exc: Exception) -> ChargeResult:
    """A query that got no answer tells the reconciler nothing: try again later."""
    return ChargeResult(Outcome.UNKNOWN, None, CHANNEL_UNAVAILABLE, str(exc))


def unknown_refund(exc: Exception) -> RefundResult:
    return RefundResult(Outcome.UNKNOWN, None, CHANNEL_UNAVAILABLE, str(exc))
