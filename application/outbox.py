"""Events, written in the same transaction as the change they announce (the outbox).

Every move of a payment or a refund is one event, named after the status it reached and
carrying the object as the API returns it after that move. A transaction writes all its
events as one outbox entry, after the payment's row is written or locked, so an entry of
a later move of the same payment is always written after the entry of an earlier one.
The publisher gives them their sequence later, off the payment path (docs/adr/0020).

The events the contract announces to a payment's `notify_url` (final states) are marked
for it; that delivery is made from the entry too, as every other.
"""

from __future__ import annotations

from datetime import datetime

from application.ports.events import Announced, OutboxEntry
from application.ports.platform import IdGenerator
from application.ports.storage import UnitOfWork
from application.views import payment_view, refund_view
from domain.events import payment_event, refund_event
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


def _payment_events(ids: IdGenerator, payment: Payment, states: list[Payment]) -> list[Announced]:
    notify = payment.notify_url is not None
    return [
        Announced(
            ids.new_id("evt"),
            payment_event(state.status),
            payment_view(state),
            notify and state.status in ANNOUNCED_PAYMENT_STATUSES,
        )
        for state in states
    ]


def _refund_event(ids: IdGenerator, payment: Payment, refund: Refund) -> Announced:
    notify = payment.notify_url is not None and refund.status in ANNOUNCED_REFUND_STATUSES
    return Announced(
        ids.new_id("evt"), refund_event(refund.status), refund_view(refund), notify
    )


async def _write(
    uow: UnitOfWork, payment: Payment, events: list[Announced], now: datetime
) -> None:
    await uow.outbox.add(
        OutboxEntry(payment.merchant_id, tuple(events), now, payment.notify_url)
    )


async def announce_created(
    uow: UnitOfWork, ids: IdGenerator, payment: Payment, now: datetime
) -> None:
    """A new payment: the state it was created in, then each move it has made since."""
    states = payment.take_moves() or [payment]
    await _write(uow, payment, _payment_events(ids, payment, states), now)


async def announce_payment(
    uow: UnitOfWork, ids: IdGenerator, payment: Payment, now: datetime
) -> None:
    """Each move the payment made in this transaction, and nothing when it made none (a
    claim released, a void the channel refused): an event is a change, never a repeat."""
    states = payment.take_moves()
    if states:
        await _write(uow, payment, _payment_events(ids, payment, states), now)


async def announce_refund(
    uow: UnitOfWork, ids: IdGenerator, payment: Payment, refund: Refund, now: datetime
) -> None:
    """The refund's move, then each move it caused its payment to make (refunded)."""
    events = [_refund_event(ids, payment, refund)]
    events += _payment_events(ids, payment, payment.take_moves())
    await _write(uow, payment, events, now)
