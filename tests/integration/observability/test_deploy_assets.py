"""The dashboard, the alerts and the compose stack only use what paygate really exports."""

from __future__ import annotations

import re

import pytest
from deploy_assets import (
    CONTRACT_QUERIES,
    alert_rules,
    dashboard,
    dashboard_panels,
    dashboard_queries,
    load_yaml,
    recorded_names,
    slo_rules,
)
from promql_names import label_names, metric_names
from promtool_runner import DEPLOY

from observability.metrics import LATENCY_BUCKETS, Metrics
from observability.payment_faults import payment_faults

# Attached by Prometheus to every scraped series (the scrape job and target), not by paygate.
TARGET_LABELS = frozenset({"job", "instance"})
_SUM = re.compile(r"\bsum\s*(?:by\s*\(([^)]*)\))?\s*\(")  # the `by` labels of each sum


@pytest.fixture(scope="module")
def exported() -> tuple[frozenset[str], set[str]]:
    """Sample names and label names of a Metrics object that recorded one of everything."""
    metrics = Metrics()
    payment_faults(metrics)  # registered with the metered CreatePayment, as the gateway does
    metrics.observe_http("GET", "/ping", 200, 0.01, 0, 10)
    metrics.record_payment("success", "sandbox", "USD", 0.1, 1.0)
    metrics.record_refund("success", "USD", 0.1, 1.0)
    metrics.record_failover("sandbox", "backup", "not_sent")
    labels = {name for family in metrics.registry.collect() for sample in family.samples
              for name in sample.labels}
    return metrics.exported_names(), labels


def all_queries() -> list[str]:
    alerts = [rule["expr"] for rule in alert_rules().values()]
    slo = [rule["expr"] for rule in slo_rules()]
    return [*CONTRACT_QUERIES, *alerts, *slo, *dashboard_queries()]


@pytest.mark.parametrize("query", all_queries())
def test_every_query_uses_only_exported_metrics_and_labels(
    query: str, exported: tuple[frozenset[str], set[str]]
) -> None:
    names, labels = exported
    used = metric_names(query)
    assert used, f"no metric found in {query!r}"
    assert used - names - recorded_names() == set()
    assert label_names(query) - labels - TARGET_LABELS == set()


def test_every_http_query_keeps_the_scrape_jobs_apart() -> None:
    """The split risk, order and channel services export the same HTTP metrics as the
    gateway: summed together, their healthy requests dilute the gateway's 5xx ratio and
    their routes blend into its latency. Every HTTP alert and panel groups by `job`."""
    alerts = [rule["expr"] for rule in [*alert_rules().values(), *slo_rules()]]
    http = [query for query in [*alerts, *dashboard_queries()]
            if any(name.startswith("payment_gateway_http_") for name in metric_names(query))]
    assert http
    for query in http:
        groupings = _SUM.findall(query)
        assert groupings, query
        assert all("job" in re.split(r"\s*,\s*", by.strip()) for by in groupings), query


def test_the_name_reader_sees_a_misspelt_metric() -> None:
    query = 'sum by (channel) (rate(payment_gateway_payments_total{status="success"}[5m]))'
    assert metric_names(query) == {"payment_gateway_payments_total"}
    assert label_names(query) == {"channel", "status"}


def test_the_contract_alerts_and_the_feeds_have_their_threshold_duration_and_severity() -> None:
    summary = {name: (float(rule["expr"].rsplit(">", 1)[1]), rule["for"],
                      rule["labels"]["severity"])
               for name, rule in alert_rules().items()}
    assert summary == {
        "HighPaymentFailureRate": (0.05, "5m", "critical"),
        "HighPaymentLatency": (5.0, "10m", "warning"),
        "HighRiskRejectionRate": (0.20, "15m", "warning"),
        "HighHTTPErrorRate": (0.01, "5m", "critical"),
        "HighOutboxLag": (60.0, "5m", "warning"),
        "AuthorizationsExpiringUncaptured": (0.01, "10m", "warning"),
        "PaymentFailoverRateHigh": (0.05, "10m", "warning"),
    }


def test_the_dashboard_shows_the_channels_share_and_the_failovers() -> None:
    queries = dashboard_queries()
    assert any("sum by (channel) (rate(payment_gateway_payment_total" in q for q in queries)
    assert any("payment_gateway_failover_total" in q and "from_channel" in q for q in queries)


def test_the_dashboard_shows_captures_and_expiries() -> None:
    queries = dashboard_queries()
    assert any('operation="capture_payment"' in q for q in queries)
    assert any('operation="cancel_payment",status="expired"' in q for q in queries)


def test_the_dashboard_shows_what_on_call_looks_at() -> None:
    used = {name for query in dashboard_queries() for name in metric_names(query)}
    assert {
        "payment_gateway_payment_total", "payment_gateway_payment_duration_seconds_bucket",
        "payment_gateway_payment_amount_bucket", "payment_gateway_http_requests_total",
        "payment_gateway_refund_total",
    } <= used
    [panel] = [p for p in dashboard_panels() if p["title"] == "Payment latency (p50 / p95 / p99)"]
    latency = [target["expr"] for target in panel["targets"]]
    assert all("payment_duration_seconds_bucket" in q and 'operation="create_payment"' in q
               for q in latency)
    assert sorted(q.split(",")[0] for q in latency) == [
        "histogram_quantile(0.5", "histogram_quantile(0.95", "histogram_quantile(0.99"]


def test_grafana_provisioning_points_at_the_dashboard_and_prometheus() -> None:
    sources = load_yaml("grafana/provisioning/datasources/paygate.yml")["datasources"]
    providers = load_yaml("grafana/provisioning/dashboards/paygate.yml")["providers"]
    uids = {panel["datasource"]["uid"] for panel in dashboard_panels()}
    assert uids == {source["uid"] for source in sources if source["type"] == "prometheus"}
    assert providers[0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_prometheus_scrapes_the_gateway_and_the_split_services() -> None:
    config = load_yaml("prometheus/prometheus.yml")
    jobs = {job["job_name"]: job["static_configs"][0]["targets"]
            for job in config["scrape_configs"]}
    assert {"paygate", "paygate-risk", "paygate-order", "paygate-channel"} <= set(jobs)
    assert config["rule_files"] == ["alerts.yml", "slo.yml"]
    assert all((DEPLOY / "prometheus" / name).is_file() for name in config["rule_files"])


def test_compose_runs_the_gateway_against_postgres_with_otlp_to_jaeger() -> None:
    services = load_yaml("compose.yml")["services"]
    assert {"postgres", "gateway", "prometheus", "grafana", "jaeger"} <= set(services)
    gateway = services["gateway"]
    assert "paygate serve" in " ".join(gateway["command"])
    assert gateway["environment"]["PAYGATE_DATABASE_URL"].startswith(
        "postgresql+asyncpg://paygate:paygate@postgres:5432/")
    assert gateway["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
    assert "4318:4318" in services["jaeger"]["ports"]
    assert services["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"
    mounted = {volume.split(":")[0] for name in ("prometheus", "grafana")
               for volume in services[name]["volumes"]}
    assert all((DEPLOY / path).exists() for path in mounted)


def test_split_services_answer_where_prometheus_scrapes_them() -> None:
    split = load_yaml("compose.split.yml")["services"]
    config = load_yaml("prometheus/prometheus.yml")
    targets = {target for job in config["scrape_configs"] for static in job["static_configs"]
               for target in static["targets"]}
    for name in ("risk", "order", "channel"):
        port = split[name]["command"][split[name]["command"].index("--port") + 1]
        assert f"{name}:{port}" in targets
        assert split["gateway"]["environment"][f"PAYGATE_{name.upper()}_URL"] == (
            f"http://{name}:{port}")


def test_every_compose_process_that_needs_the_master_key_has_the_same_one() -> None:
    """Without one, each container made its own key, and secrets sealed under one were
    unreadable by the others (docs/adr/0022)."""
    gateway = load_yaml("compose.yml")["services"]["gateway"]["environment"]
    risk = load_yaml("compose.split.yml")["services"]["risk"]["environment"]

    assert gateway["PAYGATE_MASTER_KEY"] == risk["PAYGATE_MASTER_KEY"]
    assert "PAYGATE_MASTER_KEY" in gateway["PAYGATE_MASTER_KEY"]  # the operator's, if set


def test_prometheus_reads_the_gateways_metrics_with_the_token_compose_gives_it() -> None:
    """An open /metrics tells whoever reaches the merchant port every volume and amount."""
    gateway = load_yaml("compose.yml")["services"]["gateway"]["environment"]
    config = load_yaml("prometheus/prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}

    assert jobs["paygate"]["authorization"] == {
        "type": "Bearer", "credentials": gateway["PAYGATE_METRICS_TOKEN"]}


SLO_BUDGETS = {"payment_success": 0.005, "payment_latency": 0.01, "availability": 0.001}
SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")


def test_every_slo_is_recorded_over_every_window_with_its_budget_remaining() -> None:
    """The original report's objectives: success > 99.5 %, P99 < 3 s, availability > 99.9 %."""
    recorded = recorded_names()
    for slo, budget in SLO_BUDGETS.items():
        assert {f"job:slo_{slo}_errors:ratio_rate{window}" for window in SLO_WINDOWS} <= recorded
        remaining = next(rule for rule in slo_rules()
                         if rule.get("record") == f"job:slo_{slo}_error_budget:remaining_ratio30d")
        assert remaining["expr"] == f"1 - job:slo_{slo}_errors:ratio_rate30d / {budget}"


def _burn(expr: str) -> set[tuple[str, float]]:
    """(window, threshold) of each `ratio_rate<window> > (<factor> * <budget>)` comparison."""
    found = re.findall(r"ratio_rate(\w+) > \(?(?:([0-9.]+) \* )?([0-9.]+)\)?", expr)
    return {(window, float(factor or 1) * float(budget)) for window, factor, budget in found}


@pytest.mark.parametrize(("slo", "alert"), [
    ("payment_success", "PaymentSuccess"), ("payment_latency", "PaymentLatency"),
    ("availability", "Availability")])
def test_every_slo_pages_and_tickets_on_the_workbooks_burn_rates(slo: str, alert: str) -> None:
    """Page: 2 % of the budget in 1 h (14.4x over 1 h and 5 m) or 5 % in 6 h (6x over 6 h
    and 30 m); ticket: 10 % in 3 d (1x over 3 d and 6 h)."""
    alerts = {rule["alert"]: rule for rule in slo_rules() if "alert" in rule}
    budget = SLO_BUDGETS[slo]
    page, ticket = alerts[f"{alert}BudgetBurn"], alerts[f"{alert}BudgetSlowBurn"]
    assert (page["labels"], ticket["labels"]) == (
        {"severity": "page", "slo": slo}, {"severity": "ticket", "slo": slo})
    assert _burn(page["expr"]) == {
        ("1h", 14.4 * budget), ("5m", 14.4 * budget), ("6h", 6 * budget), ("30m", 6 * budget)}
    assert _burn(ticket["expr"]) == {("3d", budget), ("6h", budget)}
    assert "for" not in page
    assert "for" not in ticket


def test_the_latency_slo_reads_a_real_bucket_boundary_of_3_seconds() -> None:
    latency = next(rule["expr"] for rule in slo_rules()
                   if rule.get("record") == "job:slo_payment_latency_errors:ratio_rate5m")
    boundary = re.search(r'le="([0-9.]+)"', latency)
    assert boundary is not None
    assert boundary.group(1) == "3.0"
    assert 3.0 in LATENCY_BUCKETS


def test_the_dashboard_opens_on_an_slo_row_on_call_can_act_on() -> None:
    """Each SLI against its objective, the budget left, the burn rate: the row on top."""
    panels = dashboard()["panels"]
    assert panels[0]["type"] == "row"
    assert "SLOs" in panels[0]["title"]
    row = [panel for panel in panels[1:] if panel["gridPos"]["y"] < 17]
    queries = [target["expr"] for panel in row for target in panel["targets"]]
    for slo, objective in (("payment_success", 0.995), ("payment_latency", 0.99),
                           ("availability", 0.999)):
        assert f"1 - job:slo_{slo}_errors:ratio_rate1h" in queries
        assert f"1 - job:slo_{slo}_errors:ratio_rate30d" in queries
        assert f"job:slo_{slo}_error_budget:remaining_ratio30d" in queries
        assert f"job:slo_{slo}_errors:ratio_rate1h / {SLO_BUDGETS[slo]}" in queries
        [sli] = [panel for panel in row
                 if f"1 - job:slo_{slo}_errors:ratio_rate1h" in str(panel["targets"])]
        steps = sli["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert steps[-1]["value"] == objective
    assert all(panel["gridPos"]["y"] >= 17 for panel in panels[len(row) + 1:])


def test_the_latency_panels_link_their_exemplars_to_the_trace_in_jaeger() -> None:
    provisioned = load_yaml("grafana/provisioning/datasources/paygate.yml")["datasources"]
    sources = {source["uid"]: source for source in provisioned}
    links = sources["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert links == [{"name": "trace_id", "datasourceUid": "jaeger"}]
    assert sources["jaeger"]["type"] == "jaeger"
    latency = [target for panel in dashboard_panels() for target in panel["targets"]
               if 'payment_duration_seconds_bucket{operation="create_payment"}' in target["expr"]]
    assert len(latency) == 4
    assert all(target.get("exemplar") is True for target in latency)
