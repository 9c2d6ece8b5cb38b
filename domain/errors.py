"""Every broken business rule raises a `DomainError` with a stable, machine-readable code.

The codes are part of the public contract (HTTP error bodies, CLI messages, metrics), so
they never change once published.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every rule violation; `code` is stable, `message` is for people."""

    code = "domain_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidCurrency(DomainError):
    code = "invalid_currency"


class InvalidAmount(DomainError):
    code = "invalid_amount"


class InvalidStatus(DomainError):
    code = "invalid_status"


class AmountExceeded(DomainError):
    code = "amount_exceeded"


class DuplicateOrder(DomainError):
    code = "duplicate_order"


class InvalidChannel(DomainError):
    code = "invalid_channel"


class InvalidCard(DomainError):
    code = "validation_error"


class InvalidRiskDecision(DomainError):
    code = "validation_error"


class InvalidFeeSchedule(DomainError):
    code = "validation_error"


class UnbalancedPosting(DomainError):
    code = "unbalanced_posting"


class InvalidCustomer(DomainError):
    code = "validation_error"


class AuthorizationExpired(DomainError):
    """The hold on the card lapsed (`capture_before` passed): nothing can be captured."""

    code = "authorization_expired"

class InvalidReference(DomainError):
    code = "validation_error"


class InvalidRouting(DomainError):
    """Routing rules that cannot be used: nothing of them is kept."""

    code = "validation_error"


class Forbidden(DomainError):
    """An operator whose role does not carry the right to an action."""

    code = "forbidden"


class InvalidOperatorName(DomainError):
    code = "validation_error"
