"""Exemplars over HTTP (issue 27): a sampled request's X-Trace-ID is the exemplar of its
bucket on both latency histograms, in the OpenMetrics scrape a Prometheus asks for; an
unsampled request leaves none; a scraper that does not ask gets the classic text format."""

from __future__ import annotations

from collections.abc import AsyncIterator
from itertools import pairwise

import httpx
import pytest
from litestar import Litestar, post
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from observability.decorators import metered_create_payment, traced_create_payment
from observability.litestar import instrument, metrics_handler
from observability.metrics import LATENCY_BUCKETS, Metrics
from observability.trace_ids import sampled_trace_id
from tests.unit.observability.builders import StubUseCase, payment_command
from tests.unit.observability.span_capture import Spans, spans_with_rate
from tests.unit.observability.tiny_app import http_client

# What Prometheus 2.x sends when it scrapes (scrape/scrape.go, acceptHeader)
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
UNSAMPLED_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
HISTOGRAMS = ("payment_gateway_http_request_duration_seconds",
              "payment_gateway_payment_duration_seconds")


def payments_app(metrics: Metrics, spans: Spans) -> Litestar:
    use_case = metered_create_payment(
        traced_create_payment(StubUseCase("ok"), spans.tracer), metrics)

    @post("/api/v1/payments", status_code=201)
    async def create() -> dict[str, str]:
        await use_case(payment_command())
        return {"status": "succeeded"}

    return Litestar([create, metrics_handler(metrics)], logging_config=None)


async def client_at(rate: float, metrics: Metrics) -> AsyncIterator[httpx.AsyncClient]:
    spans = spans_with_rate(rate)
    try:
        async for http in http_client(
                instrument(payments_app(metrics, spans), metrics, spans.provider)):
            yield http
    finally:
        spans.provider.shutdown()


@pytest.fixture
async def sampled(metrics: Metrics) -> AsyncIterator[httpx.AsyncClient]:
    async for http in client_at(1.0, metrics):
        yield http


@pytest.fixture
async def unsampled(metrics: Metrics) -> AsyncIterator[httpx.AsyncClient]:
    async for http in client_at(0.0, metrics):
        yield http


def exemplars(text: str) -> dict[str, set[str]]:
    """Per histogram, the trace ids of its buckets' exemplars."""
    found: dict[str, set[str]] = {name: set() for name in HISTOGRAMS}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if family.name in found and sample.exemplar is not None:
                found[family.name].add(sample.exemplar.labels["trace_id"])
    return found


async def test_a_sampled_request_s_trace_id_is_the_exemplar_of_both_histograms(
    sampled: httpx.AsyncClient,
) -> None:
    paid = await sampled.post("/api/v1/payments", json={})
    scrape = await sampled.get("/metrics", headers={"Accept": PROMETHEUS_ACCEPT})
    assert paid.status_code == 201
    assert scrape.headers["content-type"].startswith("application/openmetrics-text")
    assert scrape.text.endswith("# EOF\n")
    assert exemplars(scrape.text) == {name: {paid.headers["x-trace-id"]} for name in HISTOGRAMS}


async def test_the_exemplar_sits_on_the_bucket_the_request_fell_in(
    sampled: httpx.AsyncClient,
) -> None:
    paid = await sampled.post("/api/v1/payments", json={})
    scrape = await sampled.get("/metrics", headers={"Accept": PROMETHEUS_ACCEPT})
    [bucket] = [
        sample for family in text_string_to_metric_families(scrape.text)
        if family.name == "payment_gateway_http_request_duration_seconds"
        for sample in family.samples if sample.exemplar is not None]
    assert bucket.labels["path"] == "/api/v1/payments"
    assert bucket.exemplar.labels == {"trace_id": paid.headers["x-trace-id"]}
    assert 0 < bucket.exemplar.value <= float(bucket.labels["le"])


async def test_an_unsampled_request_leaves_no_exemplar(unsampled: httpx.AsyncClient) -> None:
    paid = await unsampled.post("/api/v1/payments", json={})
    scrape = await unsampled.get("/metrics", headers={"Accept": PROMETHEUS_ACCEPT})
    assert paid.status_code == 201
    assert len(paid.headers["x-trace-id"]) == 32
    assert exemplars(scrape.text) == {name: set() for name in HISTOGRAMS}
    assert "payment_gateway_payment_duration_seconds_bucket" in scrape.text


async def test_an_unsampled_incoming_parent_leaves_no_exemplar_even_at_rate_one(
    sampled: httpx.AsyncClient,
) -> None:
    paid = await sampled.post("/api/v1/payments", json={},
                              headers={"traceparent": UNSAMPLED_PARENT})
    scrape = await sampled.get("/metrics", headers={"Accept": PROMETHEUS_ACCEPT})
    assert paid.headers["x-trace-id"] == UNSAMPLED_PARENT.split("-")[1]
    assert exemplars(scrape.text) == {name: set() for name in HISTOGRAMS}


@pytest.mark.parametrize("accept", [None, "*/*", "text/plain;version=0.0.4", "text/plain"])
async def test_a_scraper_that_does_not_ask_for_openmetrics_gets_the_classic_format(
    sampled: httpx.AsyncClient, accept: str | None
) -> None:
    await sampled.post("/api/v1/payments", json={})
    scrape = await sampled.get("/metrics", headers={"Accept": accept} if accept else {})
    assert scrape.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# EOF" not in scrape.text
    assert "trace_id" not in scrape.text
    assert "# TYPE payment_gateway_payment_total counter" in scrape.text


def test_outside_a_sampled_trace_there_is_no_trace_id_to_attach() -> None:
    assert sampled_trace_id() is None


def test_3_seconds_and_the_p99_region_are_bucket_boundaries() -> None:
    """The latency SLO (issue 27): share under 3 s is one bucket, and the P99 region has
    boundaries at most a second apart; the 5 s alert threshold stays a boundary."""
    assert {3.0, 5.0} <= set(LATENCY_BUCKETS)
    region = [b for b in LATENCY_BUCKETS if 0.5 <= b <= 5.0]
    assert all(high - low <= 1.0 for low, high in pairwise(region))


def test_a_3_second_payment_counts_under_the_3_second_bucket(metrics: Metrics) -> None:
    metrics.record_payment("success", "sandbox", "USD", 3.0, None)
    metrics.record_payment("success", "sandbox", "USD", 3.2, None)
    bucket = metrics.registry.get_sample_value
    labels = {"operation": "create_payment", "status": "success"}
    assert bucket("payment_gateway_payment_duration_seconds_bucket", {**labels, "le": "3.0"}) == 1
    assert bucket("payment_gateway_payment_duration_seconds_bucket", {**labels, "le": "4.0"}) == 2
