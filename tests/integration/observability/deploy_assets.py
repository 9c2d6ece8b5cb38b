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


def dashboard_queries() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana/dashboards/paygate.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def alert_rules() -> dict[str, dict[str, Any]]:
    groups = load_yaml("prometheus/alerts.yml")["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}
