"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant on every dialect.

    PostgreSQL keeps `timestamptz`. SQLite has no time zone type, so the instant is
    stored as naive UTC text of fixed width (`YYYY-MM-DD HH:MM:SS.ffffff`): text order is
    then time order, and comparisons in SQL stay correct. Naive datetimes are refused on
    the way in, because guessing their zone is how money moves to the wrong day.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = _utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, the text in one step: SQLAlchemy's DATETIME would format the naive
        value `process_bind_param` gives it field by field (2.8 µs a value, ~1.1 here)."""
        if dialect.name == "sqlite":
            return _sqlite_text
        return super().bind_processor(dialect)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: paygate stores aware UTC instants only")
    return value.astimezone(UTC)


def _sqlite_text(value: datetime | None) -> str | None:
    """`YYYY-MM-DD HH:MM:SS.ffffff` of the UTC instant: what SQLAlchemy's SQLite DATETIME
    writes (isoformat pads the year to four digits and, asked to, always gives
    microseconds; the `+00:00` it appends is cut off)."""
    if value is None:
        return None
    return _utc(value).isoformat(" ", "microseconds")[:26]


def json_type() -> TypeEngine[Any]:
    """JSON text on SQLite, JSONB on PostgreSQL (queryable by operators). Python `None`
    is SQL NULL, not the JSON text `null`, so `IS NULL` finds it."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def bigint_id() -> TypeEngine[int]:
    """An autoincrementing BIGINT key; INTEGER on SQLite so it aliases the rowid."""
    return BigInteger().with_variant(Integer(), "sqlite")
