"""Small fakes shared by the adapter unit tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ManualClock:
    """The breakers' clock: recovery timeouts pass when a test says."""

    now: float = 1_000_000.0

    def time(self) -> float:
        return self.now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
