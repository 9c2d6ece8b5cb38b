"""Authorize now, capture or void later: the words of the card lifecycle.

A `manual` payment is authorized only: the card's issuer holds the amount until
`capture_before`, when the hold lapses. Before that the merchant captures it once (all of
it or less, the rest released) or cancels it; after that paygate voids it itself, with the
cancellation reason `expired`. A capture or a void is sent to the channel outside any
transaction, so the payment first records which of the two is on its way (`HoldMove`):
that claim is what lets exactly one of two racing requests go ahead, and what the
reconciler resolves when the channel's answer was lost.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from domain.errors import AmountExceeded, InvalidAmount
from domain.money import Money, check_minor_units


class CaptureMethod(StrEnum):
    AUTOMATIC = "automatic"  # charged at once: authorized and captured in one call
    MANUAL = "manual"  # authorized now, captured (or voided) later


class HoldMove(StrEnum):
    """What was sent to the channel about an authorization, its answer not yet recorded."""

    CAPTURE = "capture"
    VOID = "void"


DEFAULT_AUTHORIZATION_LIFETIME = timedelta(days=7)
"""How long a hold lasts when the channel does not say: card networks' usual 7 days."""

EXPIRED = "expired"
REQUESTED = "requested"
CAPTURE_DECLINED = "capture_declined"
"""Cancellation reasons paygate gives: the hold lapsed uncaptured; the merchant or an
operator cancelled without saying why; the channel declined the capture."""


def amount_to_capture(requested: object, capturable: int, currency: str) -> int:
    """What one capture takes: `requested` minor units, or everything held when None.

    Raises `InvalidAmount` for anything but a positive integer and `AmountExceeded` for
    more than is held, each naming the currency, which the caller's request did not carry.
    """
    if requested is None:
        return capturable
    try:
        amount = check_minor_units(requested, positive=True)
    except InvalidAmount as error:
        error.details["currency"] = currency
        raise
    if amount > capturable:
        asked, held = Money(amount, currency), Money(capturable, currency)
        raise AmountExceeded(
            f"a capture of {asked} exceeds what is authorized ({held})",
            capturable=capturable,
            currency=currency,
        )
    return amount
