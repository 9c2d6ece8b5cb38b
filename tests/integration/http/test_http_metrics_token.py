"""/metrics tells volumes and amounts: behind PAYGATE_METRICS_TOKEN, only Prometheus reads it."""

from __future__ import annotations

import pytest
from http_harness import ApiFactory, assert_error

TOKEN = "metrics-token-for-the-http-suite"


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN,
                                           f"Bearer {TOKEN}x"])
async def test_with_a_token_set_metrics_refuses_anyone_without_it(
    open_api: ApiFactory, http_sqlite_url: str, authorization: str | None
) -> None:
    api = await open_api(http_sqlite_url, metrics_token=TOKEN)
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await api.client.get("/metrics", headers=headers)

    assert_error(response, 401, "unauthenticated")
    assert "payment_gateway_" not in response.text


async def test_with_a_token_set_prometheus_reads_metrics_with_it(
    open_api: ApiFactory, http_sqlite_url: str
) -> None:
    api = await open_api(http_sqlite_url, metrics_token=TOKEN)

    response = await api.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200
    assert "payment_gateway_http_requests_total" in response.text


async def test_without_a_token_metrics_stay_open_as_the_quickstart_serves_them(
    open_api: ApiFactory, http_sqlite_url: str
) -> None:
    api = await open_api(http_sqlite_url)

    assert (await api.client.get("/metrics")).status_code == 200
