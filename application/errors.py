"""Errors raised by use cases and ports, beyond the domain's own rules."""

from __future__ import annotations

from typing import Any

from domain.errors import DomainError


class NotFound(DomainError):
    code = "not_found"


class ValidationFailed(DomainError):
    code = "validation_error"


class DuplicateName(DomainError):
    """A second operator under a name already taken."""

    code = "validation_error"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(DomainError):
    code = "idempotency_key_in_use"


class InvalidSignature(DomainError):
    """A channel notification whose signature is missing, wrong, stale or unparseable."""

    code = "malformed_request"


class Unavailable(Exception):
    """A database or a dependency is down; the request wrote nothing and may be retried.

    Infrastructure, not a broken business rule, so not a `DomainError`: nothing that
    handles rule violations (a refusal to store, a 4xx) may take an outage for one. It
    carries a stable `code`, a `message` and `details` as rules do, for the edges that
    answer it (HTTP 503 `unavailable`, a CLI line and exit 1).
    """

    code = "unavailable"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ConcurrentUpdate(Exception):
    """An optimistic update lost a race: the row changed since it was read. Reload and retry."""


class AlreadySettled(Exception):
    """A settlement for this merchant, currency and day already exists."""
