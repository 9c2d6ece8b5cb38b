"""Driver errors surface as the SQLAlchemy exception classes the engine would raise, so
`errors.translated` and the repositories handle them alike on either path."""

import asyncio
import sqlite3

import asyncpg
import pytest
from sqlalchemy import exc

from adapters.persistence.driver import transaction_on, wrapped
from adapters.persistence.errors import is_unavailable, sqlstate, translated
from application.errors import Unavailable


@pytest.mark.parametrize(
    ("error", "kind", "unavailable"),
    [
        (asyncpg.UniqueViolationError("duplicate key"), exc.IntegrityError, False),
        (asyncpg.ForeignKeyViolationError("no merchant"), exc.IntegrityError, False),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), exc.IntegrityError, False),
        (asyncpg.NumericValueOutOfRangeError("out of range"), exc.DataError, False),
        (asyncpg.TooManyConnectionsError("too many"), exc.OperationalError, True),
        (asyncpg.SerializationError("could not serialize"), exc.DBAPIError, True),
        (sqlite3.OperationalError("database is locked"), exc.OperationalError, True),
        (asyncpg.InterfaceError("connection is closed"), exc.InterfaceError, True),
        (ConnectionResetError("reset by peer"), exc.InterfaceError, True),
    ],
)
def test_a_driver_error_becomes_what_the_engine_would_raise(
    error: Exception, kind: type[exc.DBAPIError], unavailable: bool
) -> None:
    raised = wrapped(error, "INSERT INTO payments ...", None)
    assert type(raised) is kind
    assert raised.orig is error
    assert is_unavailable(raised) is unavailable


def test_the_sqlstate_stays_readable() -> None:
    raised = wrapped(asyncpg.UniqueViolationError("duplicate key"), None, None)
    assert sqlstate(raised) == "23505"


def test_a_transaction_on_a_closed_connection_is_refused_as_unavailable() -> None:
    class ClosedConnection:  # asyncpg checks before it even makes the transaction
        def transaction(self, readonly: bool) -> None:
            raise asyncpg.InterfaceError("connection is closed")

    with pytest.raises(exc.InterfaceError) as raised:
        transaction_on(ClosedConnection(), read_only=False)
    assert is_unavailable(raised.value)


def test_an_outage_inside_translated_is_unavailable_with_its_cause() -> None:
    cause = exc.OperationalError("BEGIN", None, sqlite3.OperationalError("database is locked"))

    with pytest.raises(Unavailable, match="while committing") as raised, translated("committing"):
        raise cause

    assert raised.value.__cause__ is cause


@pytest.mark.parametrize(
    "error",
    [exc.IntegrityError("INSERT", None, sqlite3.IntegrityError("UNIQUE")), ValueError("bug")],
)
def test_anything_else_leaves_translated_as_it_is(error: Exception) -> None:
    with pytest.raises(type(error)) as raised, translated("committing"):
        raise error

    assert raised.value is error


def test_a_cancellation_inside_translated_stays_a_cancellation() -> None:
    with pytest.raises(asyncio.CancelledError), translated("committing"):
        raise asyncio.CancelledError



def test_a_timed_out_wrapped_error_of_the_server_is_unavailable() -> None:
    canceled = wrapped(asyncpg.QueryCanceledError("statement timeout"), "UPDATE ...", None)
    assert sqlstate(canceled) == "57014"
    assert is_unavailable(canceled)
    closed = asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    assert is_unavailable(wrapped(closed, "UPDATE ...", None))  # what the watchdog leaves
