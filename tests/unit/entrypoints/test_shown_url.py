"""`paygate db upgrade` prints the database it upgraded: never with its password."""

from __future__ import annotations

import pytest

from entrypoints.cli.common import shown_url


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+asyncpg://paygate:s3cret@db:5432/paygate",
     "postgresql+asyncpg://paygate:***@db:5432/paygate"),
    ("postgresql+asyncpg://postgres@127.0.0.1:5432/test",
     "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
    ("sqlite+aiosqlite:///./paygate.db", "sqlite+aiosqlite:///./paygate.db"),
    ("not a url at all s3cret", "(the configured database)"),
])
def test_a_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert shown_url(url) == shown
    assert "s3cret" not in shown_url(url)
