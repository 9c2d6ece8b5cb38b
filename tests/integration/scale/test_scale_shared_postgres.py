"""Two gateways (one of them with two workers) on one PostgreSQL schema: the invariants
the database enforces hold across processes, and /metrics adds up every worker."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fleet import Fleet, answered, codes, new_merchant, signed_call, spread, start_fleet
from gateway_client import Keys, encode, payment_body
from pg_template import Statement
from process_harness import Processes
from prometheus_client.parser import text_string_to_metric_families

from entrypoints.cli.signing import signed_headers

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PAYMENTS = "/api/v1/payments"


@pytest.fixture(scope="module")
def fleet(
    tmp_path_factory: pytest.TempPathFactory, module_postgres_url: str,
    postgres_migration_statements: list[Statement],
) -> Iterator[Fleet]:
    """One fleet for the module; each test makes a merchant of its own."""
    workdir = tmp_path_factory.mktemp("fleet")
    started = Processes(workdir)
    master_key = base64.b64encode(os.urandom(32)).decode()
    try:
        yield asyncio.run(start_fleet(started, workdir, module_postgres_url, master_key,
                                      postgres_migration_statements))
    finally:
        started.stop_all()


@pytest.fixture
async def keys(fleet: Fleet) -> Keys:
    return await new_merchant(fleet.one.base_url, f"Scale {uuid.uuid4().hex[:6]}")


async def test_one_order_no_sent_30_times_over_both_servers_makes_one_payment(
    fleet: Fleet, keys: Keys
) -> None:
    # thirty requests of their own (signed bytes differ), all for one order
    bodies = [payment_body("SCALE-ORDER", "4242424242424242", 1_000, description=f"try {i}")
              for i in range(30)]

    responses = answered(await spread(fleet.urls, keys, "POST", PAYMENTS, bodies))

    assert codes(responses) == {(201, None): 1, (409, "duplicate_order"): 29}
    rows = await fleet.rows.all(
        "SELECT status FROM payments WHERE merchant_id = $1 AND order_no = $2",
        keys.merchant_id,
        "SCALE-ORDER",
    )
    assert rows == [("succeeded",)]


async def test_one_signed_payment_replayed_30_times_over_both_servers_is_used_once(
    fleet: Fleet, keys: Keys
) -> None:
    body = payment_body("SCALE-REPLAY", "4242424242424242", 1_000)
    async with httpx.AsyncClient(timeout=30) as client:
        raw = encode(body)
        headers = {**signed_headers(keys.api_key, keys.api_secret, "POST", PAYMENTS, raw),
                   "Content-Type": "application/json"}
        responses = await asyncio.gather(*(
            client.post(f"{fleet.urls[i % len(fleet.urls)]}{PAYMENTS}", content=raw,
                        headers=headers) for i in range(30)))

    assert codes(list(responses)) == {(201, None): 1, (401, "unauthenticated"): 29}
    count = await fleet.rows.value(
        "SELECT count(*) FROM payments WHERE merchant_id = $1", keys.merchant_id
    )
    assert count == 1


async def test_one_idempotency_key_sent_30_times_over_both_servers_makes_one_payment(
    fleet: Fleet, keys: Keys
) -> None:
    body = payment_body("SCALE-IDEM", "4242424242424242", 1_000)
    key = {"Idempotency-Key": "scale-key-1"}

    responses = answered(await spread(fleet.urls, keys, "POST", PAYMENTS, [body] * 30, key))

    created = [r for r in responses if r.status_code == 201]
    assert set(codes(responses)) <= {(201, None), (409, "idempotency_key_in_use")}, codes(responses)
    assert created, "no request was answered with the payment"
    assert len({r.json()["payment_no"] for r in created}) == 1
    firsts = [r for r in created if r.headers.get("idempotent-replayed") != "true"]
    assert len(firsts) == 1, [dict(r.headers) for r in created]
    count = await fleet.rows.value(
        "SELECT count(*) FROM payments WHERE merchant_id = $1", keys.merchant_id
    )
    assert count == 1


async def test_40_concurrent_refunds_of_a_twentieth_over_both_servers_never_over_refund(
    fleet: Fleet, keys: Keys
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        paid = await signed_call(
            client,
            fleet.one.base_url,
            keys,
            "POST",
            PAYMENTS,
            payment_body("SCALE-REFUND", "4242424242424242", 10_000),
        )
    assert paid.status_code == 201, paid.text
    payment_no = paid.json()["payment_no"]
    target = f"{PAYMENTS}/{payment_no}/refunds"

    bodies = [{"amount": 500, "reason": f"part {i}"} for i in range(40)]
    responses = answered(await spread(fleet.urls, keys, "POST", target, bodies))

    tally = codes(responses)
    assert tally.pop((201, None)) == 20, codes(responses)
    # A refund that arrives once the payment is wholly `refunded` is `409 invalid_status`
    # (the contract's rule for a payment no longer refundable); before that, amount_exceeded.
    assert set(tally) <= {(422, "amount_exceeded"), (409, "invalid_status")}, tally
    assert sum(tally.values()) == 20
    assert {r.json()["status"] for r in responses if r.status_code == 201} == {"succeeded"}
    refunded = await fleet.rows.value(
        "SELECT coalesce(sum(amount), 0) FROM refunds WHERE payment_no = $1 "
        "AND status = 'succeeded'",
        payment_no,
    )
    assert refunded == 10_000
    assert await fleet.rows.all(
        "SELECT status, refunded_amount FROM payments WHERE payment_no = $1", payment_no
    ) == [("refunded", 10_000)]
    assert await fleet.rows.ledger_balanced()


def payments_total(text: str) -> float:
    return sum(
        found.value
        for family in text_string_to_metric_families(text)
        for found in family.samples
        if found.name == "payment_gateway_payment_total"
    )


async def scrape_totals(base_url: str, times: int) -> list[float]:
    """`times` scrapes, each on a new connection, so both workers answer some of them."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        scrapes = await asyncio.gather(*(client.get(f"{base_url}/metrics") for _ in range(times)))
    assert {s.status_code for s in scrapes} == {200}
    return [payments_total(s.text) for s in scrapes]


async def test_every_scrape_of_the_two_worker_server_counts_every_payment(
    fleet: Fleet, keys: Keys
) -> None:
    before = await scrape_totals(fleet.many.base_url, 8)
    assert len(set(before)) == 1, before
    bodies = [payment_body(f"SCALE-METRIC-{i}", "4242424242424242", 100) for i in range(12)]

    responses = answered(await spread([fleet.many.base_url], keys, "POST", PAYMENTS, bodies))

    assert codes(responses) == {(201, None): 12}
    assert await scrape_totals(fleet.many.base_url, 16) == [before[0] + 12] * 16
