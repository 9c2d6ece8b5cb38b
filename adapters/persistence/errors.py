"""Turning driver failures into the application's errors.

A use case must be able to tell "the database is down or too busy, nothing was written,
try again" (`Unavailable`, HTTP 503) from a bug. Raw driver exceptions never leave the
persistence adapter for the first case; constraint violations that mean something to the
business are translated by the repository that expects them.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import exc

from application.errors import AlreadySettled, ConcurrentUpdate, Unavailable
from domain.errors import DomainError

log = logging.getLogger(__name__)

# SQLSTATE classes meaning "retry later": connection exception, transaction rollback
# (serialization failure, deadlock), insufficient resources, operator intervention.
_RETRYABLE_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57"})
_UNAVAILABLE_TYPES = (
    exc.OperationalError,  # SQLite: locked, unable to open, disk I/O
    exc.InterfaceError,
    exc.DisconnectionError,
    exc.TimeoutError,  # no pooled connection free in time
    OSError,  # connection refused before any driver wrapping
    asyncio.TimeoutError,
)


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a wrapped driver error, when the driver reports one."""
    orig = getattr(error, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


def is_unavailable(error: BaseException) -> bool:
    """True when `error` says the database could not do the work, not that the work was wrong."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, _UNAVAILABLE_TYPES):
        return True
    code = sqlstate(error) if isinstance(error, exc.DBAPIError) else None
    return code is not None and code[:2] in _RETRYABLE_SQLSTATE_CLASSES


_ANSWERS = (DomainError, Unavailable, ConcurrentUpdate, AlreadySettled)
"""What the persistence adapter raises on purpose: a rule's refusal, an outage, a lost race."""


def is_failure(error: BaseException) -> bool:
    """Any other exception from the database's side of the adapter: whatever the driver or
    SQLAlchemy raised (an outage, an unexpected constraint, a bug in the driver, a lost
    connection), which rolled its transaction back. Answered `Unavailable` (503: nothing
    was written, retry), never as a bug of the request (docs/adr/0028)."""
    return isinstance(error, Exception) and not isinstance(error, _ANSWERS)


def as_unavailable(error: BaseException, doing: str) -> Unavailable:
    """`unavailable`, with the traceback logged when the failure is not a plain outage."""
    if not is_unavailable(error):
        log.error("the database failed while %s (%s); answered as unavailable", doing,
                  type(error).__name__, exc_info=error)
    return unavailable(error, doing)


def unavailable(error: BaseException, doing: str) -> Unavailable:
    return Unavailable(f"the database did not answer while {doing}", reason=type(error).__name__)


class translated:  # lower case: it reads as a function, `with translated("committing"):`
    """Re-raise any failure inside the block (`is_failure`: outages, and whatever else
    the database's side raised) as `Unavailable`; the adapter's own answers as they are.

    A class rather than a `@contextmanager` generator: it wraps every BEGIN and COMMIT,
    and entering and leaving a generator costs several times more.
    """

    __slots__ = ("_doing",)

    def __init__(self, doing: str) -> None:
        self._doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, error: BaseException | None, tb: object
    ) -> None:
        if error is not None and is_failure(error):
            raise as_unavailable(error, self._doing) from error


def is_unique_violation(error: exc.IntegrityError) -> bool:
    code = sqlstate(error)
    if code is not None:
        return code == "23505"
    return "UNIQUE constraint failed" in str(error.orig)
