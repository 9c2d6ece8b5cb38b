"""The public shape of payments, refunds and settlements, shared by the API and webhooks.

One function per object, so an API response and a webhook body can never disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.operator import AuditEntry
from domain.payment import Payment
from domain.refund import Refund
from domain.settlement import Settlement


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def payment_view(payment: Payment) -> dict[str, Any]:
    risk, card, hold = payment.risk, payment.card, payment.capture_before
    return {
        "payment_no": payment.payment_no,
        "order_no": payment.order_no,
        "amount": payment.amount.amount,
        "currency": payment.amount.currency,
        "channel": payment.channel,
        "status": payment.status.value,
        "refunded_amount": payment.refunded_amount,
        "risk": None
        if risk is None
        else {
            "decision": risk.verdict.value,
            "score": risk.score,
            "reasons": list(risk.reasons),
        },
        "card": None if card is None else {"brand": card.brand, "last4": card.last4},
        "failure_code": payment.failure_code,
        "failure_message": payment.failure_message,
        "description": payment.description,
        "notify_url": payment.notify_url,
        "metadata": payment.metadata,
        "capture_method": payment.capture_method.value,
        "amount_capturable": payment.amount_capturable,
        "amount_captured": payment.amount_captured,
        "capture_before": None if hold is None else rfc3339(hold),
        "cancellation_reason": payment.cancellation_reason,
        "created_at": rfc3339(payment.created_at),
        "updated_at": rfc3339(payment.updated_at),
    }


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
