"""promtool on the shipped rules and config, and on the /metrics paygate renders."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from deploy_assets import CONTRACT_QUERIES, alert_rules, dashboard_queries, load_yaml
from litestar import Litestar, get
from promtool_runner import DEPLOY, find_promtool, run_promtool

from domain.errors import DuplicateOrder
from observability.decorators import metered_create_payment
from observability.litestar import instrument, metrics_handler
from observability.metrics import Metrics


def test_alert_rules_are_valid(promtool: str) -> None:
    result = run_promtool(promtool, "check", "rules", "alerts.yml", cwd=DEPLOY / "prometheus")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout


def test_every_alert_fires_on_bad_traffic_and_stays_silent_on_good(promtool: str) -> None:
    result = run_promtool(promtool, "test", "rules", "alerts_test.yml",
                          cwd=DEPLOY / "prometheus")
    assert result.returncode == 0, result.stdout + result.stderr


_THRESHOLD = re.compile(r">\s*([0-9.]+)\s*$")
Mutation = Callable[[dict[str, Any]], None]


def _mutations() -> dict[str, tuple[str, Mutation]]:
    """Every alert with its `for` one minute shorter and longer and its threshold 20 %
    lower and higher, and the HTTP ratio summed over all scrape jobs again."""
    mutations: dict[str, tuple[str, Mutation]] = {}
    for name, rule in alert_rules().items():
        minutes = int(rule["for"].removesuffix("m"))
        for moved in (minutes - 1, minutes + 1):
            mutations[f"{name} for: {moved}m"] = (
                name, lambda rule, moved=moved: rule.update({"for": f"{moved}m"}))
        match = _THRESHOLD.search(rule["expr"])
        assert match, f"{name}: no `> threshold` at the end of {rule['expr']!r}"
        for factor in (0.8, 1.2):
            threshold = f"{float(match.group(1)) * factor:.6g}"
            mutations[f"{name} > {threshold}"] = (name, lambda rule, threshold=threshold: (
                rule.update({"expr": _THRESHOLD.sub(f"> {threshold}", rule["expr"])})))
    mutations["HighHTTPErrorRate summed over all jobs"] = ("HighHTTPErrorRate", lambda rule: (
        rule.update({"expr": rule["expr"].replace("sum by (job)", "sum")})))
    return mutations


def _mutated_rules(alert: str, mutation: Mutation) -> Any:
    rules = load_yaml("prometheus/alerts.yml")
    rule = next(rule for group in rules["groups"] for rule in group["rules"]
                if rule.get("alert") == alert)
    before = dict(rule)
    mutation(rule)
    assert rule != before, f"{alert}: the mutation changed nothing"
    return rules


def _alert_tests_pass(promtool: str, directory: Path, rules: Any) -> bool:
    """alerts_test.yml run against `rules` in place of alerts.yml."""
    directory.mkdir()
    (directory / "alerts.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    shutil.copy(DEPLOY / "prometheus" / "alerts_test.yml", directory)
    result = run_promtool(promtool, "test", "rules", "alerts_test.yml", cwd=directory)
    return result.returncode == 0


def test_the_alert_tests_fail_on_a_nearby_threshold_or_duration(
    promtool: str, tmp_path: Path
) -> None:
    """A mutation check: the cases just above and just below each threshold, just before
    and at each `for`, make alerts_test.yml fail on any of these edits of alerts.yml."""
    assert _alert_tests_pass(promtool, tmp_path / "unchanged", load_yaml("prometheus/alerts.yml"))
    mutations = _mutations()
    assert len(mutations) == 7 * 4 + 1

    def passes(numbered: tuple[int, tuple[str, Mutation]]) -> bool:
        number, (alert, mutation) = numbered
        return _alert_tests_pass(promtool, tmp_path / f"mutant{number}",
                                 _mutated_rules(alert, mutation))

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = pool.map(passes, enumerate(mutations.values()))
        survivors = [label for label, passed in zip(mutations, outcomes, strict=True) if passed]
    assert survivors == []


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
