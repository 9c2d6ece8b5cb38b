"""The one timestamp format of the API: RFC 3339 in UTC, with milliseconds and `Z`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.timestamps import rfc3339


@pytest.mark.parametrize(("moment", "text"), [
    (datetime(2026, 12, 7, 14, 16, 9, 245_000, tzinfo=UTC), "2026-12-07T14:16:09.245Z"),
    (datetime(2026, 12, 7, 14, 16, 9, tzinfo=UTC), "2026-12-07T14:16:09.000Z"),
    (datetime(2026, 12, 7, 14, 16, 9, 999_999, tzinfo=UTC), "2026-12-07T14:16:09.999Z"),
    (datetime(2026, 12, 7, 14, 16, 9, 1_999, tzinfo=UTC), "2026-12-07T14:16:09.001Z"),
    (datetime(2026, 12, 7, 16, 16, 9, 245_000, tzinfo=timezone(timedelta(hours=2))),
     "2026-12-07T14:16:09.245Z"),
    (datetime(2026, 12, 7, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
     "2026-12-08T04:30:00.000Z"),
])
def test_a_moment_is_written_in_utc_with_milliseconds_and_z(moment: datetime, text: str) -> None:
    assert rfc3339(moment) == text


def test_the_views_write_timestamps_with_the_same_function() -> None:
    from application import views

    assert views.rfc3339 is rfc3339
