"""Health, the OpenAPI document, outages (503, nothing half-written) and routing errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from http_fakes import DownOrders, DownRisk
from http_harness import (
    Api,
    ApiFactory,
    Keys,
    assert_error,
    payment_body,
)
from prometheus_client.parser import text_string_to_metric_families

from entrypoints.cli.signing import signed_headers

ROUTES = {
    "/api/v1/payments": {"get", "post"},
    "/api/v1/payments/{payment_no}": {"get"},
    "/api/v1/payments/{payment_no}/refunds": {"get", "post"},
    "/api/v1/refunds/{refund_no}": {"get"},
    "/api/v1/channels/{channel}/notifications": {"post"},
    "/admin/v1/merchants": {"post"},
    "/admin/v1/payments/{payment_no}/review": {"post"},
    "/admin/v1/payments/{payment_no}/refunds": {"post"},
    "/admin/v1/settlements": {"get", "post"},
    "/health/live": {"get", "head"},
    "/health/ready": {"get", "head"},
    "/metrics": {"get"},
}
REQUEST_BODIES = {
    ("/api/v1/payments", "post"): {"order_no", "amount", "currency", "channel", "payment_method"},
    ("/api/v1/payments/{payment_no}/refunds", "post"): {"amount", "reason"},
    ("/admin/v1/merchants", "post"): {"name"},
    ("/admin/v1/payments/{payment_no}/review", "post"): {"decision", "note"},
    ("/admin/v1/payments/{payment_no}/refunds", "post"): {"amount", "reason"},
    ("/admin/v1/settlements", "post"): {"merchant_id", "date"},
}


@pytest.fixture(autouse=True)
async def _let_aiosqlite_threads_finish() -> AsyncIterator[None]:
    """A failed SQLite connect stops its helper thread through this loop; let it."""
    yield
    await asyncio.sleep(0.05)


async def test_live_and_ready_answer_200_when_the_database_answers(api: Api) -> None:
    live = await api.client.get("/health/live")
    ready = await api.client.get("/health/ready")

    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok"
    assert ready.json()["checks"]["database"]["ok"] is True


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
async def test_the_probes_answer_head_too(api: Api, path: str) -> None:
    """Load balancers that probe with HEAD got 405 and took every worker out."""
    response = await api.client.head(path)
    assert (response.status_code, response.content) == (200, b"")


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite file in a missing directory"),
        pytest.param("postgres", id="postgresql port nobody listens on"),
    ]
)
def unreachable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/gone/paygate.db"
    return "postgresql+asyncpg://postgres@127.0.0.1:1/paygate"


async def test_ready_is_503_naming_the_database_while_live_stays_200(
    open_api: ApiFactory, unreachable_url: str
) -> None:
    api = await open_api(unreachable_url)

    live = await api.client.get("/health/live")
    ready = await api.client.get("/health/ready")

    assert live.status_code == 200, live.text
    assert ready.status_code == 503, ready.text
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["checks"]["database"]["ok"] is False


async def test_a_payment_while_the_database_is_down_is_503_unavailable_and_logged(
    open_api: ApiFactory, unreachable_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An operator sees every 503 in the logs, with its trace id, not only in metrics."""
    api = await open_api(unreachable_url)
    body = b'{"order_no": "ORDER-1"}'
    headers = signed_headers("key_x", "secret", "POST", "/api/v1/payments", body)

    with caplog.at_level(logging.WARNING, logger="entrypoints.http.errors"):
        response = await api.client.post("/api/v1/payments", content=body, headers=headers)

    assert_error(response, 503, "unavailable")
    logged = [r for r in caplog.records if r.name == "entrypoints.http.errors"]
    assert len(logged) == 1, caplog.records
    assert "POST /api/v1/payments answered 503 unavailable" in logged[0].getMessage()


@pytest.mark.parametrize(
    "adapt",
    [
        pytest.param(lambda c: c.gateways.risk.override(providers.Object(DownRisk())), id="risk"),
        pytest.param(
            lambda c: c.gateways.orders.override(providers.Object(DownOrders())), id="orders"
        ),
    ],
)
async def test_a_dependency_down_is_503_and_no_payment_is_written(
    open_api: ApiFactory, http_sqlite_url: str, adapt: Any
) -> None:
    api = await open_api(http_sqlite_url, adapt=adapt)
    merchant = await api.new_merchant()
    before = await api.counts()

    response = await api.call(merchant, "POST", "/api/v1/payments", payment_body())
    again = await api.call(merchant, "POST", "/api/v1/payments", payment_body())

    assert_error(response, 503, "unavailable")
    assert_error(again, 503, "unavailable")
    after = await api.counts()
    # a payment's events wait on its row (docs/adr/0036): no payment, no event
    assert (after["payments"], after["ledger_entries"], after["events"]) == (
        before["payments"],
        before["ledger_entries"],
        before["events"],
    )


class TestOpenApi:
    @pytest.fixture
    async def document(self, api: Api) -> dict[str, Any]:
        response = await api.client.get("/schema/openapi.json")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def test_it_describes_every_route_of_the_contract(self, document: dict[str, Any]) -> None:
        paths = document["paths"]
        for path, methods in ROUTES.items():
            assert path in paths, path
            assert methods <= set(paths[path]), (path, set(paths[path]))

    def test_it_describes_every_request_body(self, document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        for (path, method), fields in REQUEST_BODIES.items():
            body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
            refs = [body["schema"].get("$ref")] + [
                s.get("$ref") for s in body["schema"].get("oneOf", [])
            ]
            name = next(r for r in refs if r).rsplit("/", 1)[-1]
            assert fields <= set(schemas[name]["properties"]), (path, name)

    def test_it_describes_the_error_body_on_every_api_route(self, document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        detail = schemas["ErrorOut"]["properties"]["error"]
        detail = schemas[detail["$ref"].rsplit("/", 1)[-1]] if "$ref" in detail else detail
        assert set(detail["properties"]) == {"code", "message", "trace_id", "details"}
        for path, methods in ROUTES.items():
            if not path.startswith(("/api/", "/admin/")):
                continue
            for method in methods:
                responses = document["paths"][path][method]["responses"]
                for status in ("400", "401", "404", "422", "503"):
                    schema = responses[status]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, status)


async def test_metrics_are_served_as_prometheus_text(api: Api, merchant: Keys) -> None:
    await api.pay(merchant)

    response = await api.client.get("/metrics")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# TYPE" in response.text


async def test_an_unknown_path_is_not_found_in_the_error_shape(api: Api) -> None:
    assert_error(await api.client.get("/api/v2/payments"), 404, "not_found")


async def test_a_wrong_method_is_refused_in_the_error_shape(api: Api) -> None:
    response = await api.client.delete("/health/live")

    assert response.status_code == 405, response.text
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_every_response_carries_a_trace_id(api: Api, merchant: Keys) -> None:
    payment = await api.pay(merchant)
    responses = [
        await api.call(merchant, "GET", f"/api/v1/payments/{payment['payment_no']}"),
        await api.call(merchant, "GET", "/api/v1/payments/pay_nope"),
        await api.client.get("/api/v1/payments"),
        await api.call(merchant, "POST", "/api/v1/payments", b"{bad"),
        await api.admin("GET", "/admin/v1/settlements"),
        await api.client.get("/health/live"),
        await api.client.get("/schema/openapi.json"),
    ]

    for response in responses:
        assert response.headers.get("x-trace-id"), (response.request.url, response.headers)
    ids = {response.headers["x-trace-id"] for response in responses}
    assert len(ids) == len(responses)


async def test_with_metrics_and_tracing_off_the_gateway_still_takes_payments(
    open_api: ApiFactory, http_sqlite_url: str
) -> None:
    api = await open_api(http_sqlite_url, metrics=False, tracing=False)
    merchant = await api.new_merchant()

    payment = await api.pay(merchant)
    scrape = await api.client.get("/metrics")

    assert payment["status"] == "succeeded"
    assert scrape.status_code == 404
    assert len(scrape.headers["x-trace-id"]) == 32


def _failed_payments(scrape: str) -> float:
    for family in text_string_to_metric_families(scrape):
        for sample in family.samples:
            if sample.name == "payment_gateway_payment_total" and sample.labels == {
                "status": "failed", "channel": "sandbox", "currency": "USD"
            }:
                return sample.value
    return 0.0


@pytest.mark.parametrize("number", ["4242424242424241", "42424242"])
async def test_a_card_refused_before_the_payment_is_counted_as_a_failed_payment(
    api: Api, merchant: Keys, number: str
) -> None:
    """The card is checked as the request is read, before the use case: the payment
    counter must still see it, or a wave of bad cards is invisible on the dashboard."""
    before = _failed_payments((await api.client.get("/metrics")).text)
    body = payment_body("ORDER-BAD-CARD", card=number)

    response = await api.call(merchant, "POST", "/api/v1/payments", body)

    assert_error(response, 422, "validation_error")
    after = _failed_payments((await api.client.get("/metrics")).text)
    assert after == before + 1
    assert (await api.counts())["payments"] == 0
