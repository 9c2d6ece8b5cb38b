"""promtool for the Prometheus tests: skipped when missing, except under CI=true."""

from __future__ import annotations

import pytest
from promtool_runner import find_promtool


@pytest.fixture(scope="session")
def promtool() -> str:
    return find_promtool()
