"""Driver errors raised as the SQLAlchemy exception classes the async engine would raise,
so `errors.translated` and the repositories treat the driver path and the engine's alike."""

from __future__ import annotations

import sqlite3
from typing import Any

import asyncpg
from sqlalchemy import exc

# The connection broke (terminated, closed, reset) rather than the statement failing.
_CONNECTION_GONE = (asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
DRIVER_ERRORS = (asyncpg.PostgresError, sqlite3.Error, *_CONNECTION_GONE)
_INTEGRITY = (asyncpg.IntegrityConstraintViolationError, sqlite3.IntegrityError)
_OPERATIONAL = (
    sqlite3.OperationalError, asyncpg.PostgresConnectionError, asyncpg.InsufficientResourcesError
)


def wrapped(error: Exception, sql: str | None, params: Any) -> exc.DBAPIError:
    """The SQLAlchemy exception class the async engine would have raised for `error`."""
    kind: type[exc.DBAPIError] = exc.DBAPIError
    if isinstance(error, _CONNECTION_GONE):
        kind = exc.InterfaceError
    elif isinstance(error, _INTEGRITY):
        kind = exc.IntegrityError
    elif isinstance(error, _OPERATIONAL):  # the server cannot do it now: locked, busy, down
        kind = exc.OperationalError
    elif isinstance(error, asyncpg.DataError):
        kind = exc.DataError
    return kind(sql, params, error)
