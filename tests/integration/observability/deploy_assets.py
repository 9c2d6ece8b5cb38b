"""The shipped deploy assets, read the way the tests need them."""

from __future__ import annotations

import json
from typing import Any

import yaml
from promtool_runner import DEPLOY

CONTRACT_QUERIES = (  # docs/observability.md: operators paste these as written
    'sum(rate(payment_gateway_payment_total{status="success"}[5m])) '
    "/ sum(rate(payment_gateway_payment_total[5m]))",
    "histogram_quantile(0.95, rate(payment_gateway_payment_duration_seconds_bucket[5m]))",
    "sum by (channel, currency) (rate(payment_gateway_payment_amount_sum[5m])) "
    "/ sum by (channel, currency) (rate(payment_gateway_payment_amount_count[5m]))",
    'sum(rate(payment_gateway_http_requests_total{status=~"5.."}[5m])) '
    "/ sum(rate(payment_gateway_http_requests_total[5m]))",
    'sum(rate(payment_gateway_payment_total{status="risk_rejected"}[5m])) '
    "/ sum(rate(payment_gateway_payment_total[5m]))",
)


def load_yaml(relative: str) -> Any:
    return yaml.safe_load((DEPLOY / relative).read_text())


def dashboard() -> Any:
    return json.loads((DEPLOY / "grafana/dashboards/paygate.json").read_text())


def dashboard_panels() -> list[dict[str, Any]]:
    """Every panel that queries (a row only groups the panels below it)."""
    return [panel for panel in dashboard()["panels"] if panel["type"] != "row"]


def dashboard_queries() -> list[str]:
    return [target["expr"] for panel in dashboard_panels() for target in panel["targets"]]


def slo_rules() -> list[dict[str, Any]]:
    """Every recording rule and alert of slo.yml."""
    return [rule for group in load_yaml("prometheus/slo.yml")["groups"] for rule in group["rules"]]


def recorded_names() -> frozenset[str]:
    """The series slo.yml records, which dashboards and alerts may query like metrics."""
    return frozenset(rule["record"] for rule in slo_rules() if "record" in rule)


def alert_rules() -> dict[str, dict[str, Any]]:
    groups = load_yaml("prometheus/alerts.yml")["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}
