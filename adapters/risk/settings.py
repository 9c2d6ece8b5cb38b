"""Risk rule settings: built-in defaults, or a mapping / JSON / TOML file of overrides.

    fingerprint_key = "at-least-16-bytes-of-secret"   # required
    review_at = 50                                    # score >= review_at -> review
    reject_at = 80                                    # score >= reject_at -> reject
    amount_limits = { USD = 5000000, JPY = 5000000 }  # minor units per currency
    blocked_cards = ["<fingerprint hex>"]             # hard reject
    review_cards = ["<fingerprint hex>"]              # watchlist: manual review
    blocked_email_domains = ["mailinator.com"]
    blocked_ips = ["198.51.100.7", "203.0.113.0/24"]
    [[velocity]]                                      # none by default
    dimension = "card"        # card | customer | ip
    window_seconds = 600
    max_count = 5             # the 6th payment within the window scores `points`
    points = 50

Velocity rules are off by default: load tests and demos pay with one test card
thousands of times, and must not drift into review. Deployments switch them on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from domain.money import is_currency

Dimension = Literal["card", "customer", "ip"]

DEFAULT_AMOUNT_LIMITS: dict[str, int] = {
    "USD": 5_000_000,
    "EUR": 5_000_000,
    "GBP": 5_000_000,
    "JPY": 5_000_000,
}


class VelocityRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    dimension: Dimension
    window_seconds: float
    max_count: int
    points: int = 50

    def __post_init__(self) -> None:
        if self.window_seconds <= 0 or self.max_count < 0:
            raise ValueError("a velocity rule needs window_seconds > 0 and max_count >= 0")


class RiskSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every knob of the built-in rules. Unknown keys in a file are an error, not ignored."""

    fingerprint_key: str
    review_at: int = 50
    reject_at: int = 80
    amount_limits: dict[str, int] = msgspec.field(
        default_factory=lambda: dict(DEFAULT_AMOUNT_LIMITS)
    )
    amount_limit_points: int = 85
    velocity: tuple[VelocityRule, ...] = ()
    blocked_cards: frozenset[str] = frozenset()
    review_cards: frozenset[str] = frozenset()
    blocked_email_domains: frozenset[str] = frozenset()
    blocked_ips: frozenset[str] = frozenset()
    blocked_points: int = 100
    review_list_points: int = 60
    anonymous_points: int = 10
    sandbox_test_cards: bool = True  # the contract's review / reject test cards

    def __post_init__(self) -> None:
        if not 0 < self.review_at <= self.reject_at <= 100:
            raise ValueError("thresholds must satisfy 0 < review_at <= reject_at <= 100")
        unknown = [code for code in self.amount_limits if not is_currency(code)]
        if unknown:
            raise ValueError(f"amount_limits has unknown currencies {unknown}")
        for entry in self.blocked_ips:
            ipaddress.ip_network(entry, strict=False)

    def __repr__(self) -> str:
        return f"RiskSettings(review_at={self.review_at}, reject_at={self.reject_at}, ...)"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RiskSettings:
        """Validate a plain mapping (e.g. parsed from the environment or a config service)."""
        return msgspec.convert(dict(data), cls)


def load_risk_settings(path: str | Path, **overrides: Any) -> RiskSettings:
    """Read a `.json` or `.toml` file; `overrides` (e.g. the key from a secret) win."""
    file = Path(path)
    decode = {".json": msgspec.json.decode, ".toml": msgspec.toml.decode}.get(file.suffix)
    if decode is None:
        raise ValueError(f"risk settings must be a .json or .toml file, not {file.name}")
    data: dict[str, Any] = decode(file.read_bytes())
    return RiskSettings.from_mapping({**data, **overrides})
