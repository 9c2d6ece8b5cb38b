"""What paygate announces: one event per move of a payment or a refund, named after the
status it reached (`payment.succeeded`, `refund.failed`).

The names are derived from the status enums, so a status added to a state machine is an
event type at once. The contract's names are known too, ahead of the statuses that bring
them, so a merchant may subscribe to `payment.canceled` before any payment is canceled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.errors import DomainError
from domain.payment import PaymentStatus
from domain.refund import RefundStatus

EVERY = "*"
CONTRACT_TYPES = frozenset(
    {
        "payment.succeeded",
        "payment.failed",
        "payment.rejected",
        "payment.refunded",
        "payment.partially_refunded",
        "payment.requires_capture",
        "payment.canceled",
        "refund.succeeded",
        "refund.failed",
    }
)


# Each status's event name, made once: a payment writes an event at every move.
_PAYMENT_EVENTS = {status: f"payment.{status.value}" for status in PaymentStatus}
_REFUND_EVENTS = {status: f"refund.{status.value}" for status in RefundStatus}


def payment_event(status: PaymentStatus) -> str:
    return _PAYMENT_EVENTS[status]


def refund_event(status: RefundStatus) -> str:
    return _REFUND_EVENTS[status]


EVENT_TYPES = (
    frozenset(payment_event(s) for s in PaymentStatus)
    | frozenset(refund_event(s) for s in RefundStatus)
    | CONTRACT_TYPES
)


class UnknownEventType(DomainError):
    code = "validation_error"


@dataclass(frozen=True, slots=True)
class Subscription:
    """The event types an endpoint receives: some, or every one (`*`), new ones included."""

    types: frozenset[str]

    @classmethod
    def of(cls, names: Iterable[str]) -> Subscription:
        wanted = frozenset(names)
        if not wanted:
            raise UnknownEventType('events must name at least one event type, or "*"')
        if EVERY in wanted:
            return cls(frozenset({EVERY}))
        unknown = sorted(wanted - EVENT_TYPES)
        if unknown:
            raise UnknownEventType(
                f"unknown event type {', '.join(unknown)}; use some of "
                f"{', '.join(sorted(EVENT_TYPES))}, or \"*\"",
                unknown=unknown,
            )
        return cls(wanted)

    @property
    def names(self) -> list[str]:
        return sorted(self.types)

    def wants(self, event_type: str) -> bool:
        return EVERY in self.types or event_type in self.types
