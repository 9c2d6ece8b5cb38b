"""Drill: PostgreSQL stops under a running gateway, then comes back.

A throwaway cluster (never the shared server) is stopped with `pg_ctl stop -m fast`: every
request is `503 unavailable` with the contract's error body, never a 500, and readiness is
503; once the cluster is back, payments succeed again and nothing was half-written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from drill_report import FINAL, UNRESOLVED, assert_contract_error, report
from fleet import postgres_env
from gateway_client import Gateway, payment_body
from pg_rows import PgRows
from process_harness import Processes, wait_for
from throwaway_cluster import ThrowawayCluster

from adapters.persistence import upgrade_database_async

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster() -> Iterator[ThrowawayCluster]:
    made = ThrowawayCluster()
    try:
        made.start()
        yield made
    finally:
        made.destroy()


async def test_requests_are_503_while_postgres_is_down_and_succeed_once_it_is_back(
    cluster: ThrowawayCluster, processes: Processes, master_key: str, tmp_path: Path
) -> None:
    await upgrade_database_async(cluster.url)
    gateway = processes.start("gateway", "serve", env=postgres_env(cluster.url, master_key))
    await asyncio.to_thread(gateway.wait_live)
    api = Gateway(gateway.base_url)
    try:
        keys = api.new_merchant("Outage Ltd")
        before = api.pay(keys, "PG-BEFORE")
        assert before["status"] == "succeeded", before

        cluster.stop()
        down = [
            api.call(
                keys,
                "POST",
                "/api/v1/payments",
                payment_body(f"PG-DOWN-{i}", "4242424242424242", 1_000),
            )
            for i in range(5)
        ]
        reads = [
            api.call(keys, "GET", f"/api/v1/payments/{before['payment_no']}"),
            api.call(keys, "GET", "/api/v1/payments"),
        ]
        refund = api.call(
            keys, "POST", f"/api/v1/payments/{before['payment_no']}/refunds", {"amount": 100}
        )
        ready = api.ready()

        for response in [*down, *reads, refund]:
            assert_contract_error(response, 503, "unavailable")
        assert ready.status_code == 503, ready.text

        cluster.start()
        wait_for(
            "readiness after PostgreSQL is back",
            lambda: api.ready().status_code == 200,
            timeout=15,
            every=0.2,
        )
        after = api.pay(keys, "PG-AFTER")
        assert after["status"] == "succeeded", after
    finally:
        api.close()

    rows = PgRows(cluster.url)
    payments = await rows.all(
        "SELECT p.status, o.order_no FROM payments p LEFT JOIN orders o "
        "ON o.merchant_id = p.merchant_id AND o.order_no = p.order_no"
    )
    statuses = [status for status, _ in payments]
    assert all(s in FINAL or (s in UNRESOLVED and order) for s, order in payments), payments
    assert sorted(statuses) == ["succeeded", "succeeded"], payments
    assert await rows.ledger_balanced()
    during = [*down, *reads, refund]
    report(
        "postgres-down",
        requests_during_outage=len(during),
        answered_503=sum(r.status_code == 503 for r in during),
        answered_5xx_other=sum(r.status_code >= 500 and r.status_code != 503 for r in during),
        payment_rows=len(payments),
        partial_rows=0,
        succeeded_before_and_after=2,
    )
