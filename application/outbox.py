"""Events, written in the same transaction as the change they announce (the outbox).

Every move of a payment or a refund is one event, named after the status it reached and
carrying the object as the API returns it after that move. A transaction writes all its
events as one outbox entry, in the statement that writes the payment's row
(`payments.add` or `payments.update` with `announce=`): an entry of a later move of the
same payment is always written after the entry of an earlier one, and announcing costs
no row of its own. The publisher gives them their sequence later, off the payment path
(docs/adr/0020, 0036). An entry is made once the transaction's moves are all made, as it
takes them from the payment.

The events the contract announces to a payment's `notify_url` (final states) are marked
for it; that delivery is made from the entry too, as every other.
"""

from __future__ import annotations

from datetime import datetime

from application.ports.events import Announced, OutboxEntry
from application.ports.platform import IdGenerator
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


def _entry(payment: Payment, events: list[Announced], now: datetime) -> OutboxEntry:
    return OutboxEntry(payment.merchant_id, tuple(events), now, payment.notify_url)


def created_entry(ids: IdGenerator, payment: Payment, now: datetime) -> OutboxEntry:
    """A new payment: the state it was created in, then each move it has made since."""
    states = payment.take_moves() or [payment]
    return _entry(payment, _payment_events(ids, payment, states), now)


def payment_entry(ids: IdGenerator, payment: Payment, now: datetime) -> OutboxEntry | None:
    """Each move the payment made in this transaction, and nothing when it made none (a
    claim released, a void the channel refused): an event is a change, never a repeat."""
    states = payment.take_moves()
    return _entry(payment, _payment_events(ids, payment, states), now) if states else None


def refund_entry(
    ids: IdGenerator, payment: Payment, refund: Refund, now: datetime
) -> OutboxEntry:
    """The refund's move, then each move it caused its payment to make (refunded)."""
    events = [_refund_event(ids, payment, refund)]
    events += _payment_events(ids, payment, payment.take_moves())
    return _entry(payment, events, now)
