"""How a use case's result or exception becomes a metric label.

Label values must stay few: a currency or a channel that a caller merely *sent* (and the
use case refused) could be anything, so unknown values collapse into one label.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from domain.money import exponent_of, is_currency

UNKNOWN: Final = "unknown"
DEFAULT_CHANNELS: Final = frozenset({"sandbox", "stripe"})

_PAYMENT_STATUS: Final = {
    "succeeded": "success",
    "partially_refunded": "success",
    "refunded": "success",
    "failed": "failed",
    "rejected": "risk_rejected",
    "requires_review": "review",
    "processing": "processing",
    "pending": "processing",  # created, outcome not known yet
    "requires_capture": "authorized",  # a manual payment: held, captured later
    "canceled": "canceled",
}
_REFUND_ERRORS: Final = frozenset({"invalid_status", "invalid_amount", "amount_exceeded"})

PAYMENT_STATUS_LABELS: Final = tuple(dict.fromkeys(("duplicate", *_PAYMENT_STATUS.values())))
"""Every `status` label `payment_status` gives."""
REFUND_STATUS_LABELS: Final = (
    "success", "partial_success", "pending", "failed", *sorted(_REFUND_ERRORS))
"""Every `status` label `refund_status` gives."""
HOLD_STATUS_LABELS: Final = ("success", "expired", "declined", "processing", "failed")
"""Every `status` label `hold_status` gives (captures and cancels)."""


def error_code(error: BaseException) -> str | None:
    code = getattr(error, "code", None)
    return code if isinstance(code, str) else None


def payment_status(payment: object, error: BaseException | None) -> str:
    """success, failed, duplicate, risk_rejected, review or processing."""
    if error is not None:
        return "duplicate" if error_code(error) == "duplicate_order" else "failed"
    return _PAYMENT_STATUS.get(str(getattr(payment, "status", "")), "failed")


def hold_status(payment: object, error: BaseException | None) -> str:
    """How a capture or a cancel ended: success (captured, or cancelled as asked), expired
    (voided by the worker once the hold lapsed), declined (the capture was refused),
    processing (its answer lost, for the reconciler) or failed (refused, or an error)."""
    if error is not None:
        return "failed"
    status = str(getattr(payment, "status", ""))
    if status == "canceled":
        reason = getattr(payment, "cancellation_reason", None)
        return {"expired": "expired", "capture_declined": "declined"}.get(str(reason), "success")
    if status == "requires_capture":
        return "processing"
    return "success" if status == "succeeded" else "failed"


def refund_status(outcome: object, error: BaseException | None) -> str:
    """success when the payment is now fully refunded, partial_success when some is left.

    `outcome` has `.refund` and `.payment`; a bare refund (no payment to compare with)
    counts as success. A refund whose outcome the channel has not told yet is `pending`.
    """
    if error is not None:
        code = error_code(error)
        return code if code in _REFUND_ERRORS else "failed"
    refund = getattr(outcome, "refund", outcome)
    status = str(getattr(refund, "status", ""))
    if status == "succeeded":
        payment = getattr(outcome, "payment", None)
        return "success" if payment is None or _fully_refunded(payment) else "partial_success"
    return "pending" if status == "pending" else "failed"


def _fully_refunded(payment: object) -> bool:
    if str(getattr(payment, "status", "")) == "refunded":
        return True
    refunded = getattr(payment, "refunded_amount", None)
    total = minor_units(getattr(payment, "amount", None))
    return isinstance(refunded, int) and total is not None and refunded >= total


def currency_label(currency: object) -> str:
    return currency if isinstance(currency, str) and is_currency(currency) else UNKNOWN


def channel_label(channel: object, known: Collection[str]) -> str:
    return channel if isinstance(channel, str) and channel in known else UNKNOWN


def minor_units(amount: object) -> int | None:
    """An int amount, or the `.amount` of a Money; None for anything else."""
    value = getattr(amount, "amount", amount)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def currency_of(*candidates: object) -> object:
    """The first currency found on a Money or on an object with `.currency`."""
    for candidate in candidates:
        for source in (candidate, getattr(candidate, "amount", None)):
            currency = getattr(source, "currency", None)
            if currency is not None:
                return currency
    return None


def major_units(amount: object, currency: str) -> float | None:
    """minor / 10^exponent, for histograms people read (never for arithmetic)."""
    minor = minor_units(amount)
    if minor is None or currency == UNKNOWN:
        return None
    return minor / 10.0 ** exponent_of(currency)
