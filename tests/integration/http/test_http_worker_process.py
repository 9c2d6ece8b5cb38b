"""A gateway worker process freezes its startup objects and collects young objects less often."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from entrypoints.http.asgi import YOUNG_GENERATION_THRESHOLD, create_app_from_env


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """A worker sends every logger, and Python's warnings, to its JSON handler."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


@pytest.mark.usefixtures("restored_collector", "restored_logging")
def test_building_the_worker_app_tunes_the_collector(
    tmp_path: Path, master_key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYGATE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/paygate.db")
    monkeypatch.setenv("PAYGATE_MASTER_KEY_FILE", str(master_key_file))
    monkeypatch.setenv("PAYGATE_WORKER", "off")
    monkeypatch.setenv("PAYGATE_TRACING", "off")
    monkeypatch.setenv("PAYGATE_METRICS", "off")
    gc.unfreeze()
    _, middle, old = gc.get_threshold()

    app = create_app_from_env()

    assert app is not None
    assert gc.get_freeze_count() > 10_000  # the modules and the app, at least
    assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, middle, old)
