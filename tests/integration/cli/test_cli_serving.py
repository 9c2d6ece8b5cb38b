"""What `paygate serve` tells uvicorn, and warns about, before it serves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_harness import Paygate


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: calls.append(options))
    return calls


def warnings(stdout: str) -> list[str]:
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [line["message"] for line in lines if line["level"] == "WARNING"]


def test_serve_bounds_connections_and_reads_headers_against_a_deadline(
    paygate: Paygate, served: list[dict[str, Any]]
) -> None:
    result = Paygate({**paygate.env, "PAYGATE_MAX_CONNECTIONS": "250"})("serve")

    assert result.exit_code == 0, result.output
    [options] = served
    assert options["limit_concurrency"] == 250
    assert options["http"] == "entrypoints.edge.slow_clients:DeadlineHttpToolsProtocol"


EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - what a deployment binds; nothing is bound here


@pytest.mark.parametrize(("host", "token", "warned"), [
    (EVERY_INTERFACE, None, True),
    (EVERY_INTERFACE, "scrape-token", False),
    ("127.0.0.1", None, False),
])
def test_serving_open_metrics_beyond_this_machine_is_warned_about(
    paygate: Paygate, served: list[dict[str, Any]], host: str, token: str | None, warned: bool
) -> None:
    env = {**paygate.env, **({"PAYGATE_METRICS_TOKEN": token} if token else {})}

    result = Paygate(env)("serve", "--host", host)

    assert result.exit_code == 0, result.output
    assert any("PAYGATE_METRICS_TOKEN" in w for w in warnings(result.stdout)) is warned
