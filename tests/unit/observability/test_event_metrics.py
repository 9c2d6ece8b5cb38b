"""The feed's metrics: how far the outbox is behind, measured when /metrics is read, and
webhook delivery failures by endpoint, counted by a wrapper around the sender."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import pytest
from litestar import Litestar
from prometheus_client.parser import text_string_to_metric_families

from observability.litestar import metrics_handler
from observability.metrics import Metrics
from observability.ports import metered_webhook_sender

FAILURES = "payment_gateway_webhook_delivery_failures_total"
LAG = "payment_gateway_outbox_lag_seconds"


class Sender:
    def __init__(self, *replies: int | Exception) -> None:
        self.replies = list(replies)

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], traceparent: str | None = None,
        *, endpoint: str | None = None,
    ) -> int:
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    async def refusal(self, url: str) -> str | None:
        return "not here" if "bad" in url else None


def failures(metrics: Metrics, endpoint: str) -> float | None:
    return metrics.registry.get_sample_value(FAILURES, {"endpoint": endpoint})


async def test_failed_deliveries_are_counted_by_endpoint(metrics: Metrics) -> None:
    sender = metered_webhook_sender(Sender(200, 500, 404, OSError("refused"), 204), metrics)

    assert await sender.post("https://a/", b"{}", {}, endpoint="we_1") == 200
    assert await sender.post("https://a/", b"{}", {}, endpoint="we_1") == 500
    assert await sender.post("https://b/", b"{}", {}) == 404
    with pytest.raises(OSError, match="refused"):
        await sender.post("https://a/", b"{}", {}, endpoint="we_1")
    assert await sender.post("https://a/", b"{}", {}, endpoint="we_2") == 204

    assert failures(metrics, "we_1") == 2
    assert failures(metrics, "notify_url") == 1
    assert failures(metrics, "we_2") is None


async def test_the_wrapped_sender_still_checks_destinations(metrics: Metrics) -> None:
    sender = metered_webhook_sender(Sender(), metrics)
    assert await sender.refusal("https://bad.example/") == "not here"


def test_the_lag_is_a_gauge_of_seconds(metrics: Metrics) -> None:
    metrics.set_outbox_lag(12.5)
    [family] = [f for f in text_string_to_metric_families(metrics.render().decode())
                if f.name == LAG]
    assert family.type == "gauge"
    assert [s.value for s in family.samples] == [12.5]


async def test_metrics_read_the_outbox_lag_first(metrics: Metrics) -> None:
    lags = iter([3.0, 0.0])

    async def measure() -> float:
        return next(lags)

    app = Litestar([metrics_handler(metrics, outbox_lag=measure)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        first = (await c.get("/metrics")).text
        second = (await c.get("/metrics")).text

    assert f"{LAG} 3.0" in first
    assert f"{LAG} 0.0" in second


async def test_metrics_are_served_when_the_lag_cannot_be_read(metrics: Metrics) -> None:
    async def down() -> float:
        raise ConnectionError("the database is down")

    app = Litestar([metrics_handler(metrics, outbox_lag=down)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/metrics")

    assert response.status_code == 200
    assert "payment_gateway_http_requests_total" in response.text
