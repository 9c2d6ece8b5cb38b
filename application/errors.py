"""Errors raised by use cases and ports, beyond the domain's own rules."""

from __future__ import annotations

from domain.errors import DomainError


class NotFound(DomainError):
    code = "not_found"


class ValidationFailed(DomainError):
    code = "validation_error"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(DomainError):
    code = "idempotency_key_in_use"


class InvalidSignature(DomainError):
    """A channel notification whose signature is missing, wrong, stale or unparseable."""

    code = "malformed_request"


class Unavailable(DomainError):
    """A database or a dependency is down; the request wrote nothing and may be retried."""

    code = "unavailable"


class ConcurrentUpdate(Exception):
    """An optimistic update lost a race: the row changed since it was read. Reload and retry."""


class AlreadySettled(Exception):
    """A settlement for this merchant, currency and day already exists."""
