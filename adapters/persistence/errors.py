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
    """Any exception but the adapter's answers (a rule's refusal, an outage, a lost race)
    and SQLAlchemy's own (which repositories interpret, and the edges answer with
    `is_database_failure`): what a driver raised beyond its error classes, or a failure
    around a statement. Re-raised as `Unavailable` where a statement is run."""
    return isinstance(error, Exception) and not isinstance(error, (*_ANSWERS, exc.DBAPIError))


def is_database_failure(error: BaseException) -> bool:
    """An error of the database that reached an edge: SQLAlchemy's (an unexpected
    constraint, a driver's failure the repositories do not interpret). Its unit of work
    rolled back, so the edge answers it as `Unavailable`, not as a bug (docs/adr/0028)."""
    return isinstance(error, exc.SQLAlchemyError)


def as_unavailable(error: BaseException, doing: str) -> Unavailable:
    """`unavailable`, with the traceback logged when the failure is not a plain outage."""
    if not is_unavailable(error):
        log.error("the database failed while %s (%s); answered as unavailable", doing,
                  type(error).__name__, exc_info=error)
    return unavailable(error, doing)


def unavailable(error: BaseException, doing: str) -> Unavailable:
    return Unavailable(f"the database did not answer while {doing}", reason=type(error).__name__)


class translated:  # lower case: it reads as a function, `with translated("committing"):`
    """Re-raise database outages inside the block as `Unavailable`; anything else as is.

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
        if isinstance(error, Exception) and is_unavailable(error):
            raise unavailable(error, self._doing) from error


def is_unique_violation(error: exc.IntegrityError) -> bool:
    code = sqlstate(error)
    if code is not None:
        return code == "23505"
    return "UNIQUE constraint failed" in str(error.orig)
