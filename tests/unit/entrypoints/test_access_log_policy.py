"""PAYGATE_ACCESS_LOG: every line, only the problems, or a share of the rest."""

from __future__ import annotations

import random

import pytest

from entrypoints.edge.canonical_log import AccessLogPolicy
from entrypoints.settings import ConfigurationError, Settings


@pytest.mark.parametrize(("text", "rate"), [
    ("on", 1.0), ("ON", 1.0), ("off", 0.0), ("sample:0", 0.0), ("sample:1", 1.0),
    ("sample:0.1", 0.1), (" sample:0.25 ", 0.25),
])
def test_the_setting_reads_as_a_rate(text: str, rate: float) -> None:
    assert AccessLogPolicy.parse(text).rate == rate


@pytest.mark.parametrize("text", ["sample:1.01", "sample:-0.01", "sample:", "sample:x",
                                  "some", "0.5"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="on, off or sample"):
        AccessLogPolicy.parse(text)


def test_settings_name_the_variable_of_a_value_it_cannot_use() -> None:
    with pytest.raises(ConfigurationError, match="PAYGATE_ACCESS_LOG"):
        Settings.from_env({"PAYGATE_ACCESS_LOG": "loud"})


@pytest.mark.parametrize("rate", [0.0, 0.5, 1.0])
def test_a_problem_is_always_kept(rate: float) -> None:
    assert all(AccessLogPolicy(rate).keeps(problem=True) for _ in range(100))


def test_at_rate_one_every_line_is_kept_and_at_zero_none() -> None:
    assert all(AccessLogPolicy(1.0).keeps(problem=False) for _ in range(100))
    assert not any(AccessLogPolicy(0.0).keeps(problem=False) for _ in range(100))


def test_a_sample_keeps_about_its_share(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([0.09, 0.1, 0.11, 0.0])
    monkeypatch.setattr(random, "random", lambda: next(draws))

    kept = [AccessLogPolicy(0.1).keeps(problem=False) for _ in range(4)]

    assert kept == [True, False, False, True]
