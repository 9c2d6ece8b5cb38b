"""Coverage measures threads, never greenlets (docs/adr/0035).

With greenlet tracking, coverage's tracer calls `greenlet.getcurrent()` in every traced
thread and keeps the greenlets as keys of a `WeakKeyDictionary`. When such a thread ends,
greenlet destroys its state in a pending call on the main thread, which then runs that
dictionary's Python callback inside the pending call. That once spun a CI worker's main
thread forever, beyond the reach of any time limit.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_coverage_tracks_threads_and_not_greenlets() -> None:
    run = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["coverage"]["run"]
    assert run["concurrency"] == ["thread"]
