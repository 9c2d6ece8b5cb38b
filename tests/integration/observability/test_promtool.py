"""promtool on the shipped rules and config, and on the /metrics paygate renders."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from deploy_assets import CONTRACT_QUERIES, dashboard_queries
from litestar import Litestar, get
from promtool_runner import DEPLOY, find_promtool, run_promtool

from domain.errors import DuplicateOrder
from observability.decorators import metered_create_payment
from observability.litestar import instrument, metrics_handler
from observability.metrics import Metrics


def test_alert_rules_are_valid(promtool: str) -> None:
    result = run_promtool(promtool, "check", "rules", "alerts.yml", cwd=DEPLOY / "prometheus")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 4 rules found" in result.stdout


def test_every_alert_fires_on_bad_traffic_and_stays_silent_on_good(promtool: str) -> None:
    result = run_promtool(promtool, "test", "rules", "alerts_test.yml",
                          cwd=DEPLOY / "prometheus")
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_is_valid(promtool: str) -> None:
    result = run_promtool(promtool, "check", "config", "prometheus.yml",
                          cwd=DEPLOY / "prometheus")
    assert result.returncode == 0, result.stdout + result.stderr


async def test_the_metrics_endpoint_passes_promtool_check_metrics(promtool: str) -> None:
    metrics = Metrics()

    async def duplicate(command: object) -> object:
        raise DuplicateOrder("used")

    @get("/api/v1/payments")
    async def create() -> dict[str, str]:
        try:
            await metered_create_payment(duplicate, metrics)(object())
        except DuplicateOrder:
            return {"error": "duplicate_order"}
        return {}

    metrics.record_payment("success", "sandbox", "USD", 0.2, 100.0)
    metrics.record_refund("partial_success", "USD", 0.1, 5.0)
    app = instrument(Litestar([create, metrics_handler(metrics)], logging_config=None), metrics)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://paygate.test") as http:
        await http.get("/api/v1/payments")
        await http.get("/nowhere")
        body = (await http.get("/metrics")).content
    duplicate_line = b'{channel="unknown",currency="unknown",status="duplicate"} 1.0'
    assert b"payment_gateway_payment_total" + duplicate_line in body
    result = run_promtool(promtool, "check", "metrics", stdin=body)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_a_missing_promtool_skips_locally_and_fails_under_ci() -> None:
    def missing(_: str) -> None:
        return None

    with pytest.raises(pytest.skip.Exception):
        find_promtool({}, missing)
    with pytest.raises(pytest.fail.Exception):
        find_promtool({"CI": "true"}, missing)
    assert find_promtool({"CI": "true"}, lambda name: f"/usr/bin/{name}") == "/usr/bin/promtool"


def test_dashboard_and_contract_queries_are_valid_promql(promtool: str, tmp_path: Path) -> None:
    """promtool parses rule expressions, so each query becomes a recording rule to check."""
    queries = [*CONTRACT_QUERIES, *dashboard_queries()]
    rules = {"groups": [{"name": "queries", "rules": [
        {"record": f"paygate:query_{index}", "expr": query}
        for index, query in enumerate(queries)]}]}
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules))
    result = run_promtool(promtool, "check", "rules", "queries.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout
