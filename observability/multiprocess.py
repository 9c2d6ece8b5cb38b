"""Prometheus multiprocess mode for `paygate serve --workers N`.

Each worker counts in its own memory-mapped files; /metrics, whichever worker answers,
merges the files of all of them. prometheus-client picks its storage when it is first
imported, so the parent must prepare the directory and the environment variable *before*
any worker starts, and empty it so counts from a previous run never leak in.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import Final

# Read by prometheus-client itself; this module must not import it (see above).
MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"


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
    for stale in path.glob("*.db"):
        stale.unlink()
    env[MULTIPROC_ENV] = str(path)
    return str(path)


def mark_worker_dead(pid: int, directory: str | None = None) -> None:
    """For a supervisor that sees a worker exit: drop the dead worker's live gauges.

    Its counters and histograms stay, so totals never go backwards after a restart.
    """
    from prometheus_client.multiprocess import mark_process_dead

    path = directory or os.environ.get(MULTIPROC_ENV)
    if path:
        mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
