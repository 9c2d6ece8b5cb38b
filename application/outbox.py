"""Merchant webhook events, written in the same transaction as the change they announce."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from application.ports.platform import IdGenerator
from application.ports.storage import UnitOfWork, WebhookEvent
from application.views import payment_view, refund_view, rfc3339
from domain.payment import Payment, PaymentStatus
from domain.refund import Refund, RefundStatus

ANNOUNCED_PAYMENT_STATUSES = frozenset(
    {
        PaymentStatus.SUCCEEDED,
        PaymentStatus.FAILED,
        PaymentStatus.REJECTED,
        PaymentStatus.REQUIRES_CAPTURE,
        PaymentStatus.CANCELED,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
    }
)
ANNOUNCED_REFUND_STATUSES = frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED})


def _event(
    ids: IdGenerator, merchant_id: str, url: str, kind: str, data: dict[str, Any], now: datetime
) -> WebhookEvent:
    event_id = ids.new_id("evt")
    body = json.dumps(
        {"id": event_id, "type": kind, "created_at": rfc3339(now), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return WebhookEvent(
        event_id=event_id,
        merchant_id=merchant_id,
        type=kind,
        url=url,
        body=body,
        created_at=now,
        next_attempt_at=now,
    )


async def announce_payment(
    uow: UnitOfWork, ids: IdGenerator, payment: Payment, now: datetime
) -> None:
    if payment.notify_url and payment.status in ANNOUNCED_PAYMENT_STATUSES:
        await uow.webhooks.add(
            _event(
                ids,
                payment.merchant_id,
                payment.notify_url,
                f"payment.{payment.status.value}",
                payment_view(payment),
                now,
            )
        )


async def announce_refund(
    uow: UnitOfWork, ids: IdGenerator, payment: Payment, refund: Refund, now: datetime
) -> None:
    if payment.notify_url and refund.status in ANNOUNCED_REFUND_STATUSES:
        await uow.webhooks.add(
            _event(
                ids,
                payment.merchant_id,
                payment.notify_url,
                f"refund.{refund.status.value}",
                refund_view(refund),
                now,
            )
        )
