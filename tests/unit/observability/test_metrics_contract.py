"""The metric names, types and labels of docs/observability.md, as /metrics shows them."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from observability.metrics import Metrics

CONTRACT = {
    "payment_gateway_http_requests": ("counter", {"method", "path", "status"}),
    "payment_gateway_http_request_duration_seconds": ("histogram", {"method", "path", "status"}),
    "payment_gateway_http_request_size_bytes": ("histogram", {"method", "path"}),
    "payment_gateway_http_response_size_bytes": ("histogram", {"method", "path"}),
    "payment_gateway_payment": ("counter", {"status", "channel", "currency"}),
    "payment_gateway_refund": ("counter", {"status", "currency"}),
    "payment_gateway_payment_amount": ("histogram", {"currency", "channel"}),
    "payment_gateway_payment_duration_seconds": ("histogram", {"operation", "status"}),
    "payment_gateway_refund_amount": ("histogram", {"currency"}),
}


def record_one_of_each(metrics: Metrics) -> None:
    metrics.observe_http("GET", "/api/v1/payments/{payment_no}", 200, 0.012, 0, 512)
    metrics.record_payment("success", "sandbox", "USD", 0.3, 10.5)
    metrics.record_refund("partial_success", "USD", 0.2, 2.5)


def families(metrics: Metrics) -> dict[str, tuple[str, set[str]]]:
    parsed = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        labels = {name for sample in family.samples for name in sample.labels} - {"le"}
        parsed[family.name] = (family.type, labels)
    return parsed


def test_every_contract_metric_is_rendered_with_its_type_and_labels(metrics: Metrics) -> None:
    record_one_of_each(metrics)
    rendered = families(metrics)
    assert {name: rendered.get(name) for name in CONTRACT} == CONTRACT


def test_render_is_the_classic_text_format_not_openmetrics(metrics: Metrics) -> None:
    record_one_of_each(metrics)
    text = metrics.render().decode()
    assert "# EOF" not in text
    assert "# TYPE payment_gateway_payment_total counter" in text
    assert metrics.content_type == "text/plain; version=0.0.4; charset=utf-8"


def test_http_observations_count_each_request_per_label_set(metrics: Metrics) -> None:
    for status in (200, 200, 404):
        metrics.observe_http("GET", "/ping", status, 0.001, 10, 20)
    value = metrics.registry.get_sample_value
    labels = {"method": "GET", "path": "/ping"}
    assert value("payment_gateway_http_requests_total", {**labels, "status": "200"}) == 2
    assert value("payment_gateway_http_requests_total", {**labels, "status": "404"}) == 1
    assert value("payment_gateway_http_request_size_bytes_sum", labels) == 30
    assert value("payment_gateway_http_response_size_bytes_sum", labels) == 60


def test_payment_amount_buckets_cover_major_units_up_to_100k(metrics: Metrics) -> None:
    metrics.record_payment("success", "sandbox", "USD", 0.1, 99_999.99)
    bucket = metrics.registry.get_sample_value(
        "payment_gateway_payment_amount_bucket",
        {"currency": "USD", "channel": "sandbox", "le": "100000.0"})
    below = metrics.registry.get_sample_value(
        "payment_gateway_payment_amount_bucket",
        {"currency": "USD", "channel": "sandbox", "le": "50000.0"})
    assert (bucket, below) == (1, 0)


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.record_payment("success", "sandbox", "USD", 0.1, None)
    labels = {"status": "success", "channel": "sandbox", "currency": "USD"}
    assert first.registry.get_sample_value("payment_gateway_payment_total", labels) == 1
    assert second.registry.get_sample_value("payment_gateway_payment_total", labels) is None


def test_exported_names_are_the_sample_names_queries_use(metrics: Metrics) -> None:
    record_one_of_each(metrics)
    sampled = {
        sample.name for family in metrics.registry.collect() for sample in family.samples
        if not sample.name.endswith("_created")
    }
    assert sampled <= metrics.exported_names()
    assert {"payment_gateway_payment_total", "payment_gateway_payment_duration_seconds_bucket",
            "payment_gateway_payment_amount_sum"} <= metrics.exported_names()


def test_a_multiprocess_dir_given_after_prometheus_client_was_imported_is_used(
    tmp_path: Path,
) -> None:
    """paygate shares its numbers through its own files, not prometheus_client's storage,
    so when prometheus_client was imported no longer matters (it used to be refused)."""
    metrics = Metrics(multiprocess_dir=str(tmp_path), flush_interval=60)
    try:
        metrics.record_payment("success", "sandbox", "USD", 0.1, None)
        metrics.flush()
        labels = {"status": "success", "channel": "sandbox", "currency": "USD"}
        assert metrics.registry.get_sample_value("payment_gateway_payment_total", labels) == 1
        assert [file.name for file in tmp_path.glob("*.db")] == [
            f"paygate_totals_{os.getpid()}.db"]
    finally:
        metrics.shutdown()
