"""A statement's arguments are bound by a plan made when it is compiled, and come out
exactly as SQLAlchemy's `construct_params` and the bind processors would make them."""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, exc, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable

from adapters.persistence.driver import driver_statement
from adapters.persistence.types import UtcDateTime, json_type

_t = Table(
    "things", MetaData(),
    Column("id", String, primary_key=True),
    Column("count", Integer),
    Column("odd name%", String),
    Column("meta", json_type()),
    Column("at", UtcDateTime()),
    Column("version", Integer, nullable=False),
)
AT = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
DIALECTS = [postgresql.asyncpg.dialect(), sqlite.aiosqlite.dialect()]  # type: ignore[attr-defined]


def expected(statement: Executable, params: dict[str, Any], dialect: Dialect) -> list[Any]:
    """What SQLAlchemy's own machinery binds: construct_params, then each processor."""
    compiled = statement.compile(dialect=dialect, column_keys=list(params))  # type: ignore[attr-defined]
    given = compiled.construct_params(params)  # keyed by the escaped names
    processors = compiled._bind_processors  # keyed by the names, as the SQL's order is
    escaped = compiled.escaped_bind_names
    return [
        value if (process := processors.get(name)) is None or value is None else process(value)
        for name, value in ((n, given[escaped.get(n, n)]) for n in compiled.positiontup)
    ]


STATEMENTS: list[tuple[str, Executable, dict[str, Any]]] = [
    ("insert, every column", insert(_t),
     {"id": "a", "count": 3, "odd name%": "x", "meta": {"k": "v"}, "at": AT, "version": 1}),
    ("insert, a column left out", insert(_t),
     {"id": "a", "odd name%": None, "meta": None, "at": AT, "version": 1}),
    ("update with a literal and a where value",
     sql_update(_t).where(_t.c.id == bindparam("target"), _t.c.version == 1)
     .values(version=_t.c.version + 1, at=bindparam("at")),
     {"target": "a", "at": AT}),
    ("select by a key", select(_t.c.id).where(_t.c.id == bindparam("id")), {"id": "a"}),
    ("a value given with .params(), then overridden",
     select(_t.c.id).where(_t.c.id == bindparam("id"), _t.c.count == bindparam("n"))
     .params(id="preset", n=1), {"n": 2}),
    ("a bind with a callable value",
     select(_t.c.id).where(_t.c.count > bindparam("floor", callable_=lambda: 7)), {}),
]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize(("statement", "params"), [s[1:] for s in STATEMENTS],
                         ids=[s[0] for s in STATEMENTS])
def test_the_plan_binds_what_sqlalchemy_binds(
    dialect: Dialect, statement: Executable, params: dict[str, Any]
) -> None:
    prepared = driver_statement(statement, tuple(params), dialect)

    sql, arguments = prepared.bound(params)

    assert sql == prepared.sql
    assert arguments == expected(statement, params, dialect)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_a_missing_required_value_is_refused_before_anything_is_sent(dialect: Dialect) -> None:
    statement = select(_t.c.id).where(_t.c.id == bindparam("id"))
    prepared = driver_statement(statement, ("id",), dialect)

    with pytest.raises(exc.InvalidRequestError, match="'id'"):
        prepared.bound({"other": 1})


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_a_naive_datetime_is_still_refused_by_its_type(dialect: Dialect) -> None:
    prepared = driver_statement(insert(_t), ("id", "at", "version"), dialect)

    with pytest.raises(ValueError, match="naive datetime"):
        prepared.bound({"id": "a", "at": datetime(2026, 11, 24), "version": 1})


RETURNING: list[tuple[str, Executable, tuple[str, ...]]] = [
    ("a select of every column", select(_t), ()),
    ("a select of labelled expressions",
     select(_t.c.id.label("key"), (_t.c.count + 1).label("n")), ()),
    ("an insert returning columns", insert(_t).returning(_t.c.meta, _t.c.at), ("id", "version")),
]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize(("statement", "keys"), [s[1:] for s in RETURNING],
                         ids=[s[0] for s in RETURNING])
def test_rows_are_named_and_processed_as_sqlalchemy_names_and_processes_them(
    dialect: Dialect, statement: Executable, keys: tuple[str, ...]
) -> None:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    columns = compiled._result_columns
    prepared = driver_statement(statement, keys, dialect)

    assert prepared.row is not None
    named = namedtuple("Row", [c.keyname for c in columns], rename=True)  # type: ignore[misc]
    assert prepared.row._fields == named._fields  # type: ignore[attr-defined]
    assert [_name_of(p) for p in prepared.result] == [
        _name_of(c.type._cached_result_processor(dialect, None)) for c in columns
    ]


def _name_of(processor: Any) -> str | None:
    return None if processor is None else processor.__qualname__


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_a_statement_that_returns_nothing_has_no_row_shape(dialect: Dialect) -> None:
    prepared = driver_statement(sql_update(_t).values(count=1), ("count",), dialect)

    assert prepared.row is None
    assert prepared.writes
