"""Prometheus multiprocess mode for `paygate serve --workers N`.

Each worker writes its numbers to its own file in the directory that
`PROMETHEUS_MULTIPROC_DIR` (the variable prometheus-client documents for this) names;
/metrics, whichever worker answers, adds up the files of all of them
(`observability.collector`). The parent prepares the directory and the variable *before*
any worker starts, and empties it so counts from a previous run never leak in.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import Final

# prometheus-client's documented variable; this module imports no metrics library, so the
# supervisor can use it before anything else is loaded.
MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
LIVE_PREFIX: Final = "paygate_live_"  # a worker's live gauge (observability.collector)


def prepare_multiprocess_dir(
    workers: int, directory: str | None = None, env: MutableMapping[str, str] | None = None
) -> str | None:
    """Run in the parent before starting workers; returns the directory, or None for one
    worker without an explicit directory (plain in-memory metrics are then enough)."""
    env = os.environ if env is None else env
    chosen = directory or env.get(MULTIPROC_ENV)
    if not chosen:
        if workers <= 1:
            return None
        chosen = tempfile.mkdtemp(prefix="paygate-metrics-")
    path = Path(chosen)
    path.mkdir(parents=True, exist_ok=True)
    for stale in [*path.glob("*.db"), *path.glob(".*.tmp")]:
        stale.unlink()
    env[MULTIPROC_ENV] = str(path)
    return str(path)


def mark_worker_dead(pid: int, directory: str | None = None) -> None:
    """For a supervisor that sees a worker exit: drop the dead worker's live gauge.

    Its counters and histograms stay, so totals never go backwards after a restart.
    """
    path = directory or os.environ.get(MULTIPROC_ENV)
    if path:
        (Path(path) / f"{LIVE_PREFIX}{pid}.db").unlink(missing_ok=True)
