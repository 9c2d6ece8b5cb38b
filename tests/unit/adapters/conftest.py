"""Fixtures for adapter unit tests: a controllable clock for the circuit breakers."""

from __future__ import annotations

import pytest
from purgatory.domain import model as purgatory_model

from tests.unit.adapters.adapter_fakes import ManualClock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """purgatory reads `time.time()` in its model module; the test moves it instead."""
    manual = ManualClock()
    monkeypatch.setattr(purgatory_model, "time", manual)
    return manual
