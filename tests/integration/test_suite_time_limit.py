"""The suite's own time limit (docs/adr/0035): a test that waits forever fails within it,
and an asyncio test's report says where each of its tasks was waiting."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
PLUGINS = ("-p", "pytest_timeout", "-p", "pytest_asyncio.plugin")

HANGING = '''
import asyncio

async def wait_for_nothing(event):
    await event.wait()

async def test_waits_forever():
    event = asyncio.Event()
    await asyncio.gather(asyncio.create_task(wait_for_nothing(event)))
'''


def test_an_asyncio_test_that_waits_forever_fails_and_says_where_its_tasks_wait(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_hanging=HANGING)
    pytester.makeconftest((Path(__file__).parents[1] / "conftest.py").read_text())
    # Only the two plugins the time limit is made of: loading every installed one
    # (hypothesis, schemathesis, xdist, cov...) took the child seconds of CPU before it ran.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest_subprocess(
        *PLUGINS, "-p", "no:cacheprovider", "-o", "timeout=2", "-o", "asyncio_mode=auto",
        "-o", "asyncio_default_fixture_loop_scope=function", timeout=60)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*Timeout (>2.0s) from pytest-timeout*",
        "*asyncio tasks at the timeout*",
        "*in wait_for_nothing*",
        "*await event.wait()*",
    ])
