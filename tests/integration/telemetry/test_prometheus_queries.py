"""A real Prometheus scrapes `paygate serve` and evaluates the contract's PromQL as written.

The gateway answers a scripted mix of payments and refunds over real signed HTTP. The mix
runs twice: once before Prometheus's first scrape, so that every series the queries read
already exists in that scrape (Prometheus cannot tell how much a counter grew before it
first saw it, so a series born between two scrapes would hide its first increments), then
again after it. Every `rate(...[5m])` then measures exactly the second mix, and because
both mixes are the same, every series grew by as much as it started with: Prometheus
extrapolates each one by the same factor, so ratios of rates are exact.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from gateway_client import Gateway, Keys, gateway_env, payment_body
from process_harness import Processes
from prometheus_server import PrometheusServer, find_prometheus

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_RISK_REJECT = "4100000000000019"
CARD_REVIEW = "4000000000004954"
PAYMENT_TIMEOUT = 10.0
"""The largest finite bucket of payment_duration_seconds: a p95 can be no larger."""

SUCCESS_RATIO = (
    'sum(rate(payment_gateway_payment_total{status="success"}[5m])) '
    "/ sum(rate(payment_gateway_payment_total[5m]))"
)
P95 = "histogram_quantile(0.95, rate(payment_gateway_payment_duration_seconds_bucket[5m]))"
AVG_AMOUNT = "avg(payment_gateway_payment_amount) by (channel, currency)   # (use _sum/_count)"
ERROR_RATIO = (
    'sum(rate(payment_gateway_http_requests_total{status=~"5.."}[5m])) '
    "/ sum(rate(payment_gateway_http_requests_total[5m]))"
)
RISK_RATIO = (
    'sum(rate(payment_gateway_payment_total{status="risk_rejected"}[5m])) '
    "/ sum(rate(payment_gateway_payment_total[5m]))"
)
# The forms docs/observability.md (and the dashboard) give for the p95 and the average.
P95_CREATE_PAYMENT = (
    "histogram_quantile(0.95, sum by (le) "
    '(rate(payment_gateway_payment_duration_seconds_bucket{operation="create_payment"}[5m])))'
)
AVG_AMOUNT_RATE = (
    "sum by (channel, currency) (rate(payment_gateway_payment_amount_sum[5m])) "
    "/ sum by (channel, currency) (rate(payment_gateway_payment_amount_count[5m]))"
)
AVG_AMOUNT_LIFETIME = (
    "sum by (channel, currency) (payment_gateway_payment_amount_sum) "
    "/ sum by (channel, currency) (payment_gateway_payment_amount_count)"
)
REPO_DOC = Path(__file__).resolve().parents[3] / "docs" / "observability.md"


@dataclass
class Mix:
    """What one run of the scripted traffic did, counted from the answers."""

    payments: dict[str, int] = field(default_factory=dict)
    amounts: list[int] = field(default_factory=list)
    refunds: dict[str, int] = field(default_factory=dict)

    def payment(self, status: str) -> None:
        self.payments[status] = self.payments.get(status, 0) + 1

    def refund(self, status: str) -> None:
        self.refunds[status] = self.refunds.get(status, 0) + 1


def expect(response: Any, status_code: int, **fields: object) -> dict[str, Any]:
    assert response.status_code == status_code, response.text
    body = dict(response.json())
    for name, value in fields.items():
        actual = body[name] if name in body else body["error"][name]
        assert actual == value, (name, body)
    return body


def drive_mix(api: Gateway, keys: Keys, run: str) -> Mix:
    mix = Mix()

    def pay(order: str, card: str, amount: int, status: str, label: str) -> dict[str, Any]:
        body = payment_body(f"{run}-{order}", card, amount)
        answer = expect(api.call(keys, "POST", "/api/v1/payments", body), 201, status=status)
        mix.payment(label)
        mix.amounts.append(amount)
        return answer

    def refund(payment_no: str, body: dict[str, Any], answer: int, **fields: object) -> None:
        target = f"/api/v1/payments/{payment_no}/refunds"
        expect(api.call(keys, "POST", target, body), answer, **fields)

    paid = [
        pay(f"ok-{i}", CARD_OK, amount, "succeeded", "success")
        for i, amount in enumerate((10_000, 2_500, 7_350, 12_000, 499))
    ]
    declined = [
        pay(f"declined-{i}", CARD_DECLINED, amount, "failed", "failed")
        for i, amount in enumerate((3_000, 4_500))
    ]
    duplicate = payment_body(f"{run}-ok-0", CARD_OK, 10_000, description="again")
    expect(api.call(keys, "POST", "/api/v1/payments", duplicate), 409, code="duplicate_order")
    mix.payment("duplicate")
    for i, amount in enumerate((20_000, 1_500)):
        pay(f"risky-{i}", CARD_RISK_REJECT, amount, "rejected", "risk_rejected")
    pay("review", CARD_REVIEW, 6_600, "requires_review", "review")

    refund(paid[0]["payment_no"], {"amount": 2_500}, 201, status="succeeded")
    mix.refund("partial_success")
    refund(paid[1]["payment_no"], {}, 201, status="succeeded", amount=2_500)
    mix.refund("success")
    refund(paid[0]["payment_no"], {"amount": 100_000}, 422, code="amount_exceeded")
    mix.refund("amount_exceeded")
    refund(declined[0]["payment_no"], {"amount": 100}, 409, code="invalid_status")
    mix.refund("invalid_status")
    return mix


def exported_total(api: Gateway, metric: str) -> float:
    """The sum of a counter's series as the gateway's own /metrics shows it now."""
    total = 0.0
    for line in api.http.get("/metrics").text.splitlines():
        if line.startswith(metric + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def value(series: dict[str, Any]) -> float:
    return float(series["value"][1])


@pytest.fixture
def prometheus_binary() -> str:
    return find_prometheus()


def test_prometheus_evaluates_the_contract_queries_on_a_served_mix(
    prometheus_binary: str, tmp_path: Path, master_key: str
) -> None:
    started = Processes(tmp_path)
    prometheus: PrometheusServer | None = None
    try:
        env = gateway_env(tmp_path, master_key, PAYGATE_TRACING="off", PAYGATE_WORKER="off")
        gateway = started.start("gateway", "serve", env=env).wait_live()
        api = Gateway(gateway.base_url)
        keys = api.new_merchant("Metrics Ltd")
        first = drive_mix(api, keys, "first")

        prometheus = PrometheusServer(prometheus_binary, tmp_path, f"127.0.0.1:{gateway.port}")
        prometheus.start()
        prometheus.wait_for("a first scrape of the gateway", lambda: prometheus.scrapes() >= 1)
        assert prometheus.scalar('up{job="paygate"}') == 1

        second = drive_mix(api, keys, "second")
        assert second == first
        payments = sum(second.payments.values())
        total = exported_total(api, "payment_gateway_payment_total")
        assert total == 2 * payments
        prometheus.wait_for_value("sum(payment_gateway_payment_total)", total)
        seen = prometheus.scrapes()
        prometheus.wait_for("one more scrape after the mix", lambda: prometheus.scrapes() > seen)
        at = time.time()
        api.close()

        success = prometheus.query(SUCCESS_RATIO, at)
        assert len(success) == 1, success
        assert math.isclose(value(success[0]), second.payments["success"] / payments, rel_tol=1e-9)

        rejected = prometheus.query(RISK_RATIO, at)
        assert len(rejected) == 1, rejected
        assert math.isclose(
            value(rejected[0]), second.payments["risk_rejected"] / payments, rel_tol=1e-9
        )

        # No 5xx was ever answered: no 5xx series exists, so the ratio as written is empty
        # ("no data" on the dashboard), never a positive number.
        errors = prometheus.query(ERROR_RATIO, at)
        assert all(value(series) == 0 for series in errors), errors
        assert prometheus.scalar("sum(rate(payment_gateway_http_requests_total[5m]))", at) > 0

        # One p95 per (operation, status): every one the mix produced is a real latency.
        p95 = {
            (s["metric"]["operation"], s["metric"]["status"]): value(s)
            for s in prometheus.query(P95, at)
        }
        expected_p95 = {("create_payment", status) for status in second.payments} | {
            ("create_refund", status) for status in second.refunds
        }
        assert set(p95) == expected_p95
        assert all(0 < seconds <= PAYMENT_TIMEOUT for seconds in p95.values()), p95
        create_p95 = prometheus.scalar(P95_CREATE_PAYMENT, at)
        assert 0 < create_p95 <= PAYMENT_TIMEOUT

        # The contract's average line says to use _sum/_count: a histogram has no bare
        # series, so the literal `avg(payment_gateway_payment_amount)` finds nothing.
        assert prometheus.query(AVG_AMOUNT, at) == []
        mean = sum(second.amounts) / len(second.amounts) / 100  # USD: major units
        for promql in (AVG_AMOUNT_RATE, AVG_AMOUNT_LIFETIME):
            averages = prometheus.query(promql, at)
            assert [s["metric"] for s in averages] == [{"channel": "sandbox", "currency": "USD"}], (
                averages
            )
            assert math.isclose(value(averages[0]), mean, rel_tol=1e-9), (promql, averages)
    finally:
        if prometheus is not None:
            prometheus.stop()
        started.stop_all()


def test_the_queries_tested_here_are_the_ones_documented() -> None:
    documented = REPO_DOC.read_text()
    for promql in (SUCCESS_RATIO, ERROR_RATIO, RISK_RATIO, P95_CREATE_PAYMENT, AVG_AMOUNT_RATE):
        assert promql in documented, promql
