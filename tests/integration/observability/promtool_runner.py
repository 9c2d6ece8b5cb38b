"""Where the deploy assets live, and how the tests find and run promtool."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def find_promtool(
    env: Mapping[str, str] = os.environ, which: Callable[[str], str | None] = shutil.which
) -> str:
    """The promtool binary (Debian's `prometheus` package); a skip when it is missing,
    a failure under CI=true, where tests must run rather than skip."""
    found = which("promtool")
    if found is None:
        message = "promtool is not installed (apt-get install prometheus)"
        if env.get("CI", "").lower() == "true":
            pytest.fail(f"{message}. CI=true: the Prometheus tests must run, not skip.")
        pytest.skip(message)
    return found


def run_promtool(promtool: str, *args: str, stdin: bytes | None = None,
                 cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], input=stdin.decode() if stdin is not None else None,
        capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False)
