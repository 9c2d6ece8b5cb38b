"""The merchant's order follows its payment to the statuses that decide it.

A local order book (`OrderPort.shares_database`) follows inside the payment's own unit of
work, so the two commit together; a remote one is told once the payment's truth is
committed, and a failure to tell it is logged, never raised: the payment stands.
"""

from __future__ import annotations

import logging

from application.ports.external import OrderPort
from application.ports.storage import UnitOfWork
from domain.payment import Payment, PaymentStatus

log = logging.getLogger(__name__)

FOLLOWED = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.REJECTED, PaymentStatus.CANCELED}
)
"""What the order shows: paid, or ended unpaid (then another attempt may take it)."""


async def follow_within(orders: OrderPort, uow: UnitOfWork, payment: Payment) -> None:
    if orders.shares_database and payment.status in FOLLOWED:
        await orders.update_status(
            payment.merchant_id, payment.order_no, payment.status.value, within=uow
        )


async def follow_after(orders: OrderPort, payment: Payment) -> None:
    if orders.shares_database or payment.status not in FOLLOWED:
        return
    try:
        await orders.update_status(payment.merchant_id, payment.order_no, payment.status.value)
    except Exception:
        log.exception(
            "order %s could not follow payment %s to %s",
            payment.order_no,
            payment.payment_no,
            payment.status,
        )
