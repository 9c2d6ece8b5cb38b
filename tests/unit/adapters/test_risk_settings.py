"""Risk settings: defaults, validation, files, and the fingerprint that replaces the PAN."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from adapters.risk import CardFingerprinter, InMemoryVelocityCounter, load_risk_settings
from adapters.risk.settings import RiskSettings

KEY = "unit-test-fingerprint-key"


def test_fingerprint_is_stable_per_key_and_never_contains_the_number() -> None:
    number = "4242424242424242"
    first, second = CardFingerprinter(KEY), CardFingerprinter(KEY)
    fingerprint = first.of(number)
    assert fingerprint == second.of(number)
    assert number not in fingerprint
    assert len(fingerprint) == 64


def test_another_key_gives_another_fingerprint() -> None:
    number = "4242424242424242"
    assert CardFingerprinter(KEY).of(number) != CardFingerprinter(KEY + "x").of(number)


def test_a_short_fingerprint_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        CardFingerprinter("short")


def test_the_key_never_shows_in_a_repr() -> None:
    assert KEY not in repr(CardFingerprinter(KEY))
    assert KEY not in repr(RiskSettings(fingerprint_key=KEY))


def test_settings_load_from_toml(tmp_path: Path) -> None:
    file = tmp_path / "risk.toml"
    file.write_text(
        'review_at = 40\nblocked_email_domains = ["spam.test"]\n'
        "[amount_limits]\nEUR = 100\n"
        '[[velocity]]\ndimension = "ip"\nwindow_seconds = 60\nmax_count = 3\n'
    )
    loaded = load_risk_settings(file, fingerprint_key=KEY)
    assert (loaded.review_at, loaded.amount_limits) == (40, {"EUR": 100})
    assert loaded.blocked_email_domains == frozenset({"spam.test"})
    assert [(r.dimension, r.max_count) for r in loaded.velocity] == [("ip", 3)]


def test_settings_load_from_json(tmp_path: Path) -> None:
    file = tmp_path / "risk.json"
    file.write_text(json.dumps({"fingerprint_key": KEY, "reject_at": 90}))
    assert load_risk_settings(file).reject_at == 90


def test_an_unknown_file_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.json or \.toml"):
        load_risk_settings(tmp_path / "risk.yaml")


@pytest.mark.parametrize(
    "bad",
    [
        {"review_at": 90, "reject_at": 80},
        {"amount_limits": {"XXX": 1}},
        {"blocked_ips": ["not-a-network"]},
        {"velocity": [{"dimension": "card", "window_seconds": 0, "max_count": 1}]},
        {"velocity": [{"dimension": "planet", "window_seconds": 1, "max_count": 1}]},
        {"no_such_setting": True},
    ],
)
def test_invalid_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(msgspec.ValidationError):
        RiskSettings.from_mapping({"fingerprint_key": KEY, **bad})


async def test_velocity_counter_counts_distinct_events_within_the_window() -> None:
    counter = InMemoryVelocityCounter()
    counts = [
        await counter.hit("card:x", "pay_1", 0.0, 10),
        await counter.hit("card:x", "pay_1", 1.0, 10),
        await counter.hit("card:x", "pay_2", 2.0, 10),
        await counter.hit("card:x", "pay_3", 11.5, 10),
    ]
    assert counts == [1, 1, 2, 2]


async def test_velocity_counter_stays_bounded() -> None:
    counter = InMemoryVelocityCounter(max_events=3, sweep_every=2)
    for n in range(5):
        count = await counter.hit("ip:x", f"pay_{n}", float(n), 100)
    assert count == 3
    await counter.hit("ip:y", "pay_9", 500.0, 100)
    assert len(counter) == 1
