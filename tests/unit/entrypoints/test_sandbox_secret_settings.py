"""PAYGATE_SANDBOX_SECRET: no public default, and none too short to keep (ADR 0039)."""

from __future__ import annotations

import pytest

from entrypoints.settings import MIN_SANDBOX_SECRET, ConfigurationError, Settings
from entrypoints.wiring import notification_secret


def test_unset_there_is_no_secret_and_each_process_signs_with_one_nobody_knows() -> None:
    settings = Settings.from_env({})
    assert settings.sandbox_secret is None
    first, second = notification_secret(settings), notification_secret(settings)
    assert first != second
    assert len(first) == 64


def test_a_set_secret_is_the_one_notifications_are_checked_with() -> None:
    secret = "s" * MIN_SANDBOX_SECRET
    settings = Settings.from_env({"PAYGATE_SANDBOX_SECRET": secret})
    assert notification_secret(settings) == secret


@pytest.mark.parametrize("length", [1, MIN_SANDBOX_SECRET - 1])
def test_a_secret_shorter_than_sixteen_characters_stops_the_process(length: int) -> None:
    with pytest.raises(ConfigurationError, match="PAYGATE_SANDBOX_SECRET must be at least 16"):
        Settings.from_env({"PAYGATE_SANDBOX_SECRET": "x" * length})


def test_the_secret_is_never_shown() -> None:
    assert "s3cr3t" not in repr(Settings(sandbox_secret="s3cr3t-s3cr3t-s3cr3t"))
