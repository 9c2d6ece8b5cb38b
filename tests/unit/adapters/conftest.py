"""Fixtures for adapter unit tests: a controllable clock for the circuit breakers."""

from __future__ import annotations

import pytest

from tests.unit.adapters.adapter_fakes import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    """Given to `Breakers(clock=...)`: recovery timeouts pass when the test says."""
    return ManualClock()
