"""The public shape of payments, refunds and settlements, shared by the API and webhooks.

One function per object, so an API response and a webhook body can never disagree.
"""

from __future__ import annotations

from typing import Any

from domain import plain_values as plain
from domain.operator import AuditEntry
from domain.payment import Payment, PaymentStatus
from domain.refund import Refund
from domain.routing import AttemptOutcome, RoutingRule
from domain.settlement import Settlement
from domain.timestamps import rfc3339


def payment_view(payment: Payment) -> dict[str, Any]:
    risk, card, hold = payment.risk, payment.card, payment.capture_before
    created = rfc3339(payment.created_at)
    return {
        "payment_no": payment.payment_no,
        "order_no": payment.order_no,
        "amount": payment.amount.amount,
        "currency": payment.amount.currency,
        "channel": payment.channel,
        "status": plain.STATUS[payment.status],
        "refunded_amount": payment.refunded_amount,
        "risk": None
        if risk is None
        else {
            "decision": plain.VERDICT[risk.verdict],
            "score": risk.score,
            "reasons": list(risk.reasons),
        },
        "card": None if card is None else {"brand": card.brand, "last4": card.last4},
        "failure_code": payment.failure_code,
        "failure_message": payment.failure_message,
        "description": payment.description,
        "notify_url": payment.notify_url,
        "metadata": payment.metadata,
        "capture_method": plain.CAPTURE_METHOD[payment.capture_method],
        "amount_capturable": payment.amount_capturable,
        "amount_captured": payment.amount_captured,
        "capture_before": None if hold is None else rfc3339(hold),
        "cancellation_reason": payment.cancellation_reason,
        "attempts": attempts_view(payment, created),
        "created_at": created,
        "updated_at": rfc3339(payment.updated_at),
    }


_NEVER_SENT = frozenset({PaymentStatus.REQUIRES_REVIEW, PaymentStatus.REJECTED})
_IMPLICIT_OUTCOME = {
    PaymentStatus.PENDING: AttemptOutcome.PENDING,
    PaymentStatus.PROCESSING: AttemptOutcome.UNKNOWN,
    PaymentStatus.FAILED: AttemptOutcome.FAILED,
}
# A payment that named its channel, by status: its one attempt's outcome (a plain str) and
# whether that attempt's failure code is the payment's; None: never sent. Read by every
# view of such a payment (its answer and each of its events), so looked up, not worked out.
_IMPLICIT_ATTEMPT: dict[PaymentStatus, tuple[str, bool] | None] = {
    status: None if status in _NEVER_SENT else (
        str(_IMPLICIT_OUTCOME.get(status, AttemptOutcome.SUCCEEDED).value),
        status is PaymentStatus.FAILED)
    for status in PaymentStatus
}
_CANCELED = PaymentStatus.CANCELED


def attempts_view(payment: Payment, created: str) -> list[dict[str, Any]]:
    """A routed payment's attempts as recorded; a payment that named its channel has had
    one attempt there (or none yet: held for review, rejected by risk, canceled in
    review), which its own row tells, so no attempt row is written for it."""
    if payment.attempt:
        return [
            {"channel": a.channel, "outcome": a.outcome.value, "failure_code": a.failure_code,
             "started_at": rfc3339(a.started_at)}
            for a in payment.attempts
        ]
    status = payment.status
    implicit = _IMPLICIT_ATTEMPT[status]
    if implicit is None or (status is _CANCELED and payment.capture_before is None):
        return []
    outcome, failed = implicit
    return [{
        "channel": payment.channel,
        "outcome": outcome,
        "failure_code": payment.failure_code if failed else None,
        "started_at": created,  # the payment's own `created_at`, as shown
    }]


def refund_view(refund: Refund) -> dict[str, Any]:
    return {
        "refund_no": refund.refund_no,
        "payment_no": refund.payment_no,
        "amount": refund.amount.amount,
        "currency": refund.amount.currency,
        "status": refund.status.value,
        "reason": refund.reason,
        "failure_code": refund.failure_code,
        "created_at": rfc3339(refund.created_at),
    }


def settlement_view(settlement: Settlement) -> dict[str, Any]:
    return {
        "settlement_id": settlement.settlement_id,
        "merchant_id": settlement.merchant_id,
        "currency": settlement.currency,
        "date": settlement.day.isoformat(),
        "gross": settlement.gross,
        "refunds": settlement.refunds,
        "fees": settlement.fees,
        "net": settlement.net,
        "payment_count": settlement.payment_count,
        "refund_count": settlement.refund_count,
        "created_at": rfc3339(settlement.created_at),
    }


def audit_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.entry_id,
        "actor": entry.actor,
        "role": entry.role.value,
        "action": entry.action.value,
        "object": entry.object_id,
        "object_type": entry.object_type,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
        "trace_id": entry.trace_id,
        "created_at": rfc3339(entry.created_at),
    }


def routing_view(merchant_id: str, rules: list[RoutingRule]) -> dict[str, Any]:
    return {
        "merchant_id": merchant_id,
        "rules": [
            {"currency": r.currency, "min_amount": r.min_amount, "max_amount": r.max_amount,
             "card_brand": r.card_brand, "channels": list(r.channels)}
            for r in rules
        ],
    }
