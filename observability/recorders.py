"""What each metered use case records, once it has finished one way or the other.

A recorder gets the command, the result (None on error), the exception (None on success)
and the elapsed seconds; it maps them to the contract's labels with `observability.outcomes`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from domain.money import exponent_of
from observability.metrics import Metrics
from observability.outcomes import (
    UNKNOWN,
    channel_label,
    currency_label,
    currency_of,
    error_code,
    major_units,
    minor_units,
    payment_status,
    refund_status,
)
from observability.payment_faults import PaymentFaults

Recorder = Callable[[object, object, BaseException | None, float], None]
Classifier = Callable[[object, BaseException | None], str]


_LABEL_CACHE_SIZE = 256
_MAYBE_FAULTS = frozenset({"failed", "processing"})  # payment_faults.fault_reason decides


@dataclass(frozen=True, slots=True)
class PaymentRecorder:
    """payment_total, payment_duration_seconds{operation="create_payment"} and, for a
    payment that was created, payment_amount; with `faults`, payment_faults_total.

    Every payment records, so the labels are worked out once per combination of what they
    are read from (status, channel, currency), and remembered for the few hundred
    combinations a gateway sees.
    """

    metrics: Metrics
    channels: Collection[str]
    faults: PaymentFaults | None = None
    _labels: dict[tuple[object, ...], tuple[str, str, str, float | None]] = field(
        default_factory=dict, compare=False, repr=False)

    def __call__(
        self, command: object, payment: object, error: BaseException | None, seconds: float
    ) -> None:
        source = payment if error is None else command
        money = getattr(source, "amount", None)
        currency = getattr(source, "currency", None)
        if currency is None:
            currency = getattr(money, "currency", None)
        outcome = (getattr(payment, "status", None) if error is None
                   else error_code(error) == "duplicate_order")
        key = (error is None, outcome, getattr(source, "channel", None), currency)
        try:
            labels, remember = self._labels.get(key), True
        except TypeError:  # something unhashable: work it out every time
            labels, remember = None, False
        if labels is None:
            labels = self._work_out(command, payment, error)
            if remember and len(self._labels) < _LABEL_CACHE_SIZE:
                self._labels[key] = labels
        status, channel, currency_name, divisor = labels
        amount = None
        if error is None and divisor is not None:
            minor = minor_units(money)  # source is the payment here
            amount = None if minor is None else minor / divisor
        self.metrics.record_payment(status, channel, currency_name, seconds, amount)
        if error is None and self.faults is not None and status in _MAYBE_FAULTS:
            self.faults.record(payment)

    def _work_out(
        self, command: object, payment: object, error: BaseException | None
    ) -> tuple[str, str, str, float | None]:
        """The labels, and what divides minor units into major ones (None: no amount)."""
        source = payment if error is None else command
        channel = channel_label(getattr(source, "channel", None), self.channels)
        currency = currency_label(currency_of(source))
        divisor = None if currency == UNKNOWN else 10.0 ** exponent_of(currency)
        return payment_status(payment, error), channel, currency, divisor


@dataclass(frozen=True, slots=True)
class RefundRecorder:
    """refund_total, payment_duration_seconds{operation="create_refund"} and, for a refund
    that was created, refund_amount."""

    metrics: Metrics

    def __call__(
        self, command: object, outcome: object, error: BaseException | None, seconds: float
    ) -> None:
        refund = getattr(outcome, "refund", outcome)
        currency = currency_label(currency_of(refund, getattr(outcome, "payment", None), command)
                                  or _refused_currency(error))
        amount = None if error is not None else major_units(getattr(refund, "amount", None),
                                                           currency)
        self.metrics.record_refund(refund_status(outcome, error), currency, seconds, amount)


def _refused_currency(error: BaseException | None) -> object:
    """The currency a domain error names (a refusal of a payment that was read)."""
    details = getattr(error, "details", None)
    return details.get("currency") if isinstance(details, dict) else None


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

