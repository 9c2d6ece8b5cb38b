"""What each metered use case records, once it has finished one way or the other.

A recorder gets the command, the result (None on error), the exception (None on success)
and the elapsed seconds; it maps them to the contract's labels with `observability.outcomes`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from observability.metrics import Metrics
from observability.outcomes import (
    channel_label,
    currency_label,
    currency_of,
    major_units,
    payment_status,
    refund_status,
)

Recorder = Callable[[object, object, BaseException | None, float], None]
Classifier = Callable[[object, BaseException | None], str]


@dataclass(frozen=True, slots=True)
class PaymentRecorder:
    """payment_total, payment_duration_seconds{operation="create_payment"} and, for a
    payment that was created, payment_amount."""

    metrics: Metrics
    channels: Collection[str]

    def __call__(
        self, command: object, payment: object, error: BaseException | None, seconds: float
    ) -> None:
        source = payment if error is None else command
        channel = channel_label(getattr(source, "channel", None), self.channels)
        currency = currency_label(currency_of(source))
        amount = None if error is not None else major_units(getattr(payment, "amount", None),
                                                           currency)
        self.metrics.record_payment(payment_status(payment, error), channel, currency, seconds,
                                    amount)


@dataclass(frozen=True, slots=True)
class RefundRecorder:
    """refund_total, payment_duration_seconds{operation="create_refund"} and, for a refund
    that was created, refund_amount."""

    metrics: Metrics

    def __call__(
        self, command: object, outcome: object, error: BaseException | None, seconds: float
    ) -> None:
        refund = getattr(outcome, "refund", outcome)
        currency = currency_label(currency_of(refund, getattr(outcome, "payment", None), command))
        amount = None if error is not None else major_units(getattr(refund, "amount", None),
                                                           currency)
        self.metrics.record_refund(refund_status(outcome, error), currency, seconds, amount)


@dataclass(frozen=True, slots=True)
class OperationRecorder:
    """payment_duration_seconds for any other business operation."""

    metrics: Metrics
    operation: str
    classify: Classifier

    def __call__(
        self, command: object, result: object, error: BaseException | None, seconds: float
    ) -> None:
        self.metrics.record_operation(self.operation, self.classify(result, error), seconds)


def success_or_failed(_: object, error: BaseException | None) -> str:
    return "failed" if error is not None else "success"
