"""Captures, cancels and a failed order's retries sent to two gateways (three processes)
on one PostgreSQL schema: the database lets exactly one of them through."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fleet import Fleet, answered, codes, new_merchant, signed_call, spread, start_fleet
from gateway_client import Keys, payment_body
from pg_template import Statement
from process_harness import Processes

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PAYMENTS = "/api/v1/payments"


@pytest.fixture(scope="module")
def fleet(
    tmp_path_factory: pytest.TempPathFactory, module_postgres_url: str,
    postgres_migration_statements: list[Statement],
) -> Iterator[Fleet]:
    workdir = tmp_path_factory.mktemp("card-fleet")
    started = Processes(workdir)
    master_key = base64.b64encode(os.urandom(32)).decode()
    try:
        yield asyncio.run(start_fleet(started, workdir, module_postgres_url, master_key,
                                      postgres_migration_statements))
    finally:
        started.stop_all()


@pytest.fixture
async def keys(fleet: Fleet) -> Keys:
    return await new_merchant(fleet.one.base_url, f"Cards {uuid.uuid4().hex[:6]}")


async def authorize(fleet: Fleet, keys: Keys, order_no: str) -> str:
    body = payment_body(order_no, "4242424242424242", 10_000, capture_method="manual")
    async with httpx.AsyncClient(timeout=30) as client:
        held = await signed_call(client, fleet.one.base_url, keys, "POST", PAYMENTS, body)
    assert (held.status_code, held.json()["status"]) == (201, "requires_capture"), held.text
    return str(held.json()["payment_no"])


async def at_once(fleet: Fleet, keys: Keys, calls: list[tuple[str, str, Any]]) -> list[Any]:
    """Each (server, target, body) as one request, all sent together."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        return answered(await asyncio.gather(*(
            signed_call(client, url, keys, "POST", target, body) for url, target, body in calls)))


async def test_a_capture_and_a_cancel_sent_to_two_servers_at_once_one_wins(
    fleet: Fleet, keys: Keys
) -> None:
    holds = [await authorize(fleet, keys, f"RACE-{n}") for n in range(5)]
    calls = [call for payment_no in holds for call in (
        (fleet.many.base_url, f"{PAYMENTS}/{payment_no}/capture", {}),
        (fleet.one.base_url, f"{PAYMENTS}/{payment_no}/cancel", {}))]

    responses = await at_once(fleet, keys, calls)

    for n, payment_no in enumerate(holds):
        pair = responses[2 * n: 2 * n + 2]
        assert sorted(codes(pair).items()) == [((200, None), 1), ((409, "invalid_status"), 1)]
        [(status, captured)] = await fleet.rows.all(
            "SELECT status, amount_captured FROM payments WHERE payment_no = $1", payment_no)
        captured_won = pair[0].status_code == 200
        assert (status, captured) == (("succeeded", 10_000) if captured_won else ("canceled", 0))
    postings = await fleet.rows.captures_per_payment()
    assert all(postings.get(p, 0) <= 1 for p in holds)
    assert await fleet.rows.ledger_balanced()


async def test_thirty_captures_over_both_servers_capture_once(fleet: Fleet, keys: Keys) -> None:
    payment_no = await authorize(fleet, keys, "CAPTURE-30")
    target = f"{PAYMENTS}/{payment_no}/capture"

    responses = answered(await spread(
        fleet.urls, keys, "POST", target, [{"amount_to_capture": 100 + n} for n in range(30)]))

    assert codes(responses) == {(200, None): 1, (409, "invalid_status"): 29}
    [winner] = [r.json() for r in responses if r.status_code == 200]
    assert await fleet.rows.all(
        "SELECT status, amount_captured FROM payments WHERE payment_no = $1", payment_no
    ) == [("succeeded", winner["amount_captured"])]
    assert (await fleet.rows.captures_per_payment())[payment_no] == 1
    assert await fleet.rows.ledger_balanced()


async def test_forty_retries_of_a_declined_order_over_both_servers_make_one_payment(
    fleet: Fleet, keys: Keys
) -> None:
    declined = payment_body("RETRY-40", "4000000000000002", 1_000)
    first = answered(await spread([fleet.one.base_url], keys, "POST", PAYMENTS, [declined]))
    assert first[0].json()["status"] == "failed"
    bodies = [payment_body("RETRY-40", "4242424242424242", 1_000 + n) for n in range(40)]

    responses = answered(await spread(fleet.urls, keys, "POST", PAYMENTS, bodies))

    assert codes(responses) == {(201, None): 1, (409, "duplicate_order"): 39}
    [winner] = [r.json()["payment_no"] for r in responses if r.status_code == 201]
    assert {r.json()["error"]["details"][0]["payment_no"]
            for r in responses if r.status_code == 409} == {winner}
    rows = await fleet.rows.all(
        "SELECT status FROM payments WHERE merchant_id = $1 AND order_no = $2 ORDER BY status",
        keys.merchant_id, "RETRY-40")
    assert rows == [("failed",), ("succeeded",)]
