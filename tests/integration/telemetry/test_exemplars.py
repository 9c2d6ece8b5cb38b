"""Exemplars from a metric to its trace, through a real Prometheus (issue 27).

`paygate serve` samples every trace; one payment is made, and one more under an incoming
`traceparent` that says "not sampled" (the default sampler follows it). A real Prometheus
with exemplar storage on scrapes the gateway (it asks for OpenMetrics), and its exemplar
query API must give back, on both latency histograms, the trace id the sampled payment
answered in X-Trace-ID, and never the unsampled one's.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_client import Gateway, Keys, encode, gateway_env, payment_body
from otlp_receiver import otlp_receiver
from process_harness import PAYGATE, Processes, process_env
from prometheus_server import PrometheusServer, find_prometheus

from entrypoints.cli.signing import signed_headers

pytestmark = pytest.mark.slow

UNSAMPLED_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
HISTOGRAMS = {
    "payment_gateway_payment_duration_seconds_bucket": {"operation": "create_payment"},
    "payment_gateway_http_request_duration_seconds_bucket": {"path": "/api/v1/payments"},
}


def exemplar_trace_ids(prometheus: PrometheusServer, metric: str, since: float) -> set[str]:
    response = httpx.get(f"{prometheus.base_url}/api/v1/query_exemplars", params={
        "query": metric, "start": f"{since:.3f}", "end": f"{time.time() + 60:.3f}"}, timeout=5)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "success", body
    wanted = HISTOGRAMS[metric]
    return {
        exemplar["labels"]["trace_id"]
        for series in body["data"]
        if all(series["seriesLabels"].get(k) == v for k, v in wanted.items())
        for exemplar in series["exemplars"]
    }


def test_prometheus_reads_the_sampled_payment_s_trace_id_back_as_an_exemplar(
    tmp_path: Path, master_key: str
) -> None:
    binary = find_prometheus()  # fails rather than skips under CI=true
    started = Processes(tmp_path)
    prometheus: PrometheusServer | None = None
    since = time.time() - 60
    with otlp_receiver() as (endpoint, _):
        try:
            env = gateway_env(tmp_path, master_key, PAYGATE_WORKER="off", PAYGATE_TRACING="on",
                              OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"{endpoint}/v1/traces",
                              OTEL_TRACES_SAMPLER="parentbased_always_on")
            subprocess.run([str(PAYGATE), "db", "upgrade"], env=process_env(env), check=True,
                           capture_output=True, timeout=60)
            gateway = started.start("gateway", "serve", env=env).wait_live()
            api = Gateway(gateway.base_url)
            keys = api.new_merchant("Exemplar Ltd")
            sampled = api.call(keys, "POST", "/api/v1/payments",
                               payment_body("EX-1", "4242424242424242", 2_500))
            assert sampled.status_code == 201, sampled.text
            unsampled = _unsampled_payment(api, keys)
            trace_id, unsampled_id = sampled.headers["x-trace-id"], unsampled.headers["x-trace-id"]
            assert unsampled_id == UNSAMPLED_PARENT.split("-")[1]

            prometheus = PrometheusServer(binary, tmp_path, f"127.0.0.1:{gateway.port}",
                                          flags=("--enable-feature=exemplar-storage",))
            prometheus.start()
            for metric in HISTOGRAMS:
                prometheus.wait_for(
                    f"the payment's exemplar on {metric}",
                    lambda metric=metric: trace_id in exemplar_trace_ids(
                        prometheus, metric, since),  # type: ignore[misc]
                    timeout=10)
                assert exemplar_trace_ids(prometheus, metric, since) == {trace_id}
            api.close()
        finally:
            if prometheus is not None:
                prometheus.stop()
            started.stop_all()


def _unsampled_payment(api: Gateway, keys: Keys) -> httpx.Response:
    """A payment under an incoming parent that was not sampled: no span, no exemplar."""
    body = encode(payment_body("EX-2", "4242424242424242", 2_500))
    headers = signed_headers(keys.api_key, keys.api_secret, "POST", "/api/v1/payments", body)
    headers.update({"Content-Type": "application/json", "traceparent": UNSAMPLED_PARENT})
    response = api.http.post("/api/v1/payments", content=body, headers=headers)
    assert response.status_code == 201, response.text
    return response
