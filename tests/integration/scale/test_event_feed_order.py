"""The event feed across processes: two gateways (each with its worker, so two publishers
and two deliverers) on one PostgreSQL schema, 500 payments and refunds of a quarter of them at 32
concurrent connections, while a merchant reads the feed with `after=` every 50 ms. The
reader never sees a hole in the sequence, ends with every event exactly once, and sees
each payment's moves in the order they happened; each refund reaches the merchant's
endpoint once. The same on SQLite with one process.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fleet import new_merchant, postgres_env, signed_call
from gateway_client import Keys, gateway_env, payment_body
from pg_rows import PgRows
from pg_template import Statement, replay
from process_harness import PaygateProcess, Processes, wait_for
from webhook_receiver import WebhookReceiver, receiving

from adapters.persistence import upgrade_database_async

pytestmark = pytest.mark.slow

PAYMENTS, CONCURRENCY, POLL = 500, 32, 0.05
CARD_OK, CARD_DECLINED = "4242424242424242", "4000000000000002"
SUCCEEDED = ["payment.pending", "payment.processing", "payment.succeeded"]
DECLINED = ["payment.pending", "payment.processing", "payment.failed"]
REFUNDED = [*SUCCEEDED, "refund.pending", "refund.succeeded", "payment.partially_refunded"]


NEW_CONNECTIONS = httpx.Limits(max_keepalive_connections=0)
"""No connection is reused, as in the other scale tests: uvicorn closes a connection whose
keep-alive ran out, and under uvloop a loop that falls behind runs that timer before it reads a
request already sent on it, which the client sees as a reset (httpx.ReadError)."""


@dataclass
class Reader:
    """A merchant catching up with `after=`: the next page at once while pages come full,
    otherwise every 50 ms. A sequence that is not the last one seen plus one is a hole."""

    base_url: str
    keys: Keys
    events: list[dict[str, Any]] = field(default_factory=list)
    holes: list[tuple[int, int]] = field(default_factory=list)
    after: int = 0
    total: int | None = None  # known once the payments are all answered

    async def read(self) -> None:
        async with httpx.AsyncClient(timeout=30, limits=NEW_CONNECTIONS) as client:
            while self.total is None or len(self.events) < self.total:
                target = f"/api/v1/events?after={self.after}&limit=100"
                response = await signed_call(client, self.base_url, self.keys, "GET", target)
                assert response.status_code == 200, response.text
                page = response.json()
                for event in page["data"]:
                    if event["sequence"] != self.after + 1:
                        self.holes.append((self.after, event["sequence"]))
                    self.events.append(event)
                    self.after = event["sequence"]
                if not page["has_more"]:
                    await asyncio.sleep(POLL)


async def take_payments(urls: list[str], keys: Keys) -> dict[str, list[str]]:
    """500 payments over the gateways, 32 at a time; every fourth successful one refunded in
    part right after its answer. The moves each payment must show in the feed, by number."""
    expected: dict[str, list[str]] = {}
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=0)  # as above

    async def one(client: httpx.AsyncClient, n: int) -> None:
        url = urls[n % len(urls)]
        card = CARD_DECLINED if n % 10 == 9 else CARD_OK
        async with gate:
            paid = await signed_call(client, url, keys, "POST", "/api/v1/payments",
                                     payment_body(f"FEED-{n}", card, 10_000))
        assert paid.status_code == 201, paid.text
        payment = paid.json()
        moves = DECLINED if payment["status"] == "failed" else SUCCEEDED
        if payment["status"] == "succeeded" and n % 4 == 0:
            async with gate:
                refunded = await signed_call(
                    client, urls[(n + 1) % len(urls)], keys, "POST",
                    f"/api/v1/payments/{payment['payment_no']}/refunds", {"amount": 2_500})
            assert refunded.status_code == 201, refunded.text
            moves = REFUNDED
        expected[payment["payment_no"]] = moves

    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await asyncio.gather(*(one(client, n) for n in range(PAYMENTS)))
    return expected


def histories(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each payment's events (its refunds' included), in feed order."""
    found: dict[str, list[str]] = defaultdict(list)
    for event in events:
        found[event["data"]["payment_no"]].append(event["type"])
    return dict(found)


async def run_and_read(urls: list[str], keys: Keys) -> tuple[Reader, dict[str, list[str]]]:
    """The load and the reader at once; the reader stops once it holds as many events as
    the payments' moves, or fails after a minute more."""
    reader = Reader(urls[-1], keys)
    reading = asyncio.create_task(reader.read())
    try:
        expected = await take_payments(urls, keys)
        reader.total = sum(len(moves) for moves in expected.values())
        await asyncio.wait_for(asyncio.shield(reading), timeout=60)
    finally:
        reading.cancel()
    return reader, expected


def assert_every_event_once_in_order(reader: Reader, expected: dict[str, list[str]]) -> None:
    assert reader.holes == [], f"holes in the sequence: {reader.holes[:5]}"
    ids = [e["id"] for e in reader.events]
    assert len(ids) == len(set(ids)) == sum(len(m) for m in expected.values())
    assert [e["sequence"] for e in reader.events] == list(range(1, len(ids) + 1))
    assert histories(reader.events) == expected


def start(processes: Processes, name: str, env: dict[str, str]) -> PaygateProcess:
    return processes.start(name, "serve", env=env)


@pytest.mark.postgres
async def test_two_gateways_on_postgresql_feed_a_reader_every_event_once_in_order(
    processes: Processes, postgres_url: str, postgres_migration_statements: list[Statement]
) -> None:
    await replay(postgres_url, postgres_migration_statements)
    env = postgres_env(postgres_url, base64.b64encode(os.urandom(32)).decode(),
                       PAYGATE_WORKER="on", PAYGATE_WEBHOOK_ALLOW_PRIVATE="on")
    gateways = [start(processes, f"gateway-{i}", env) for i in (1, 2)]
    for gateway in gateways:
        await asyncio.to_thread(gateway.wait_live)
    urls = [g.base_url for g in gateways]
    keys = await new_merchant(urls[0], "Feed Ltd")

    with receiving(WebhookReceiver()) as receiver:
        async with httpx.AsyncClient(timeout=30) as client:
            hook = await signed_call(client, urls[0], keys, "POST", "/api/v1/webhook_endpoints",
                                     {"url": receiver.url("/feed"), "events": ["refund.succeeded"]})
        assert hook.status_code == 201, hook.text
        receiver.secret = hook.json()["secret"]

        reader, expected = await run_and_read(urls, keys)

        assert_every_event_once_in_order(reader, expected)
        refunds = [e["id"] for e in reader.events if e["type"] == "refund.succeeded"]
        await asyncio.to_thread(wait_for, "every refund at the endpoint",
                                lambda: len(receiver.delivered()) >= len(refunds), 30.0)
        assert sorted(d.event["id"] for d in receiver.delivered()) == sorted(refunds)
        assert receiver.refused == []
    rows = PgRows(postgres_url)
    assert await rows.value("SELECT count(*) FROM payments WHERE unpublished IS NOT NULL") == 0
    assert await rows.value("SELECT count(*) FROM events") == len(reader.events)


async def test_one_gateway_on_sqlite_feeds_a_reader_every_event_once_in_order(
    processes: Processes, tmp_path: Path
) -> None:
    env = gateway_env(tmp_path, base64.b64encode(os.urandom(32)).decode(), PAYGATE_WORKER="on")
    await upgrade_database_async(env["PAYGATE_DATABASE_URL"])
    gateway = start(processes, "gateway", env)
    await asyncio.to_thread(gateway.wait_live)
    keys = await new_merchant(gateway.base_url, "Feed Ltd")

    reader, expected = await run_and_read([gateway.base_url], keys)

    assert_every_event_once_in_order(reader, expected)
