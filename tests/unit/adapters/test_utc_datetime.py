"""`UtcDateTime` binds one UTC instant the same way on every path: fixed-width naive UTC
text on SQLite (what SQLAlchemy's own DATETIME writes), an aware UTC value on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from adapters.persistence.types import UtcDateTime

SQLITE = sqlite.dialect()
POSTGRES = postgresql.asyncpg.dialect()  # type: ignore[attr-defined]
INSTANTS = [
    datetime(2026, 11, 24, 9, 30, 1, 123456, tzinfo=UTC),
    datetime(2026, 11, 24, 9, 30, 1, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2026, 11, 24, 23, 59, 59, 999999, tzinfo=timezone(timedelta(0), "Z")),  # not `UTC`
    datetime(2026, 11, 25, 3, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(1, 1, 1, 0, 0, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


def _bind(dialect: object) -> object:
    processor = UtcDateTime()._cached_bind_processor(dialect)  # type: ignore[arg-type]
    assert processor is not None
    return processor


@pytest.mark.parametrize("instant", INSTANTS, ids=str)
def test_sqlite_stores_the_text_sqlalchemy_writes_for_the_utc_instant(instant: datetime) -> None:
    expected = sqlite.DATETIME().bind_processor(SQLITE)(  # type: ignore[misc]
        instant.astimezone(UTC).replace(tzinfo=None)
    )

    assert _bind(SQLITE)(instant) == expected  # type: ignore[operator]


def test_sqlite_text_orders_as_time_does() -> None:
    texts = [_bind(SQLITE)(instant) for instant in INSTANTS]  # type: ignore[operator]
    assert sorted(texts) == [_bind(SQLITE)(i) for i in sorted(INSTANTS)]  # type: ignore[operator]
    assert {len(text) for text in texts} == {26}


@pytest.mark.parametrize("instant", INSTANTS, ids=str)
def test_postgres_gets_the_aware_utc_instant(instant: datetime) -> None:
    bound = _bind(POSTGRES)(instant)  # type: ignore[operator]
    assert bound == instant
    assert bound.tzinfo is UTC


class _Unknown(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRES], ids=["sqlite", "postgres"])
@pytest.mark.parametrize(
    "value",
    [datetime(2026, 11, 24, 9, 30), datetime(2026, 11, 24, tzinfo=_Unknown())],
    ids=["naive", "unknown offset"],
)
def test_an_instant_without_a_known_offset_is_refused(dialect: object, value: datetime) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        _bind(dialect)(value)  # type: ignore[operator]


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRES], ids=["sqlite", "postgres"])
def test_none_is_null(dialect: object) -> None:
    assert _bind(dialect)(None) is None  # type: ignore[operator]
