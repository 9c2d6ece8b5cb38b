"""`payment_gateway_payment_faults_total{reason}`: payments the gateway answered whose
outcome is its own fault, not the issuer's answer.

The payment success SLO (deploy/prometheus/slo.yml, docs/adr/0018) must not count a
declined card against the gateway, yet must count a channel error or an outcome it could
not learn. `payment_total{status="failed"}` holds both, and its meaning is the metrics
contract's, so this counter tells them apart beside it rather than changing it.
"""

from __future__ import annotations

from typing import Final
from weakref import WeakKeyDictionary

from observability.metrics import Metrics

FAULT_REASONS: Final = ("channel_error", "channel_unavailable", "unknown_outcome")
"""Every `reason` label, each exported at 0 from the start (so `rate()` sees the first)."""

ISSUER_DECLINES: Final = frozenset({
    "card_declined", "insufficient_funds", "expired_card", "incorrect_cvc",
    "incorrect_number", "invalid_expiry", "lost_card", "stolen_card",
    "authentication_required",
})
"""Failure codes that are the card issuer's (or the card holder's) answer: not faults."""

_UNRESOLVED: Final = frozenset({"processing", "pending"})


def fault_reason(payment: object) -> str | None:
    """Why a payment the gateway answered with is its fault, or None when it is not:
    `unknown_outcome` (still processing: the channel's answer was lost), or a failure that
    is no issuer's decline: `channel_unavailable` (nothing sent) or `channel_error`."""
    status = str(getattr(payment, "status", ""))
    if status in _UNRESOLVED:
        return "unknown_outcome"
    if status != "failed":
        return None
    code = getattr(payment, "failure_code", None)
    if code == "channel_unavailable":
        return "channel_unavailable"
    return None if code in ISSUER_DECLINES else "channel_error"


class PaymentFaults:
    """The counter in one `Metrics`' aggregates (so several workers add up), every reason
    made at 0 when it is first used."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        metrics.start_payment_faults(FAULT_REASONS)

    def record(self, payment: object) -> None:
        reason = fault_reason(payment)
        if reason is not None:
            self._metrics.record_payment_fault(reason)


_BY_METRICS: WeakKeyDictionary[Metrics, PaymentFaults] = WeakKeyDictionary()


def payment_faults(metrics: Metrics) -> PaymentFaults:
    """The faults counter of `metrics`, its series made with its first use."""
    faults = _BY_METRICS.get(metrics)
    if faults is None:
        faults = _BY_METRICS[metrics] = PaymentFaults(metrics)
    return faults
