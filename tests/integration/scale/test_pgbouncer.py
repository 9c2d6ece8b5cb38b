"""`PAYGATE_DATABASE_POOLER=pgbouncer`: paygate behind a real PgBouncer in transaction mode.

Two gateway workers share PgBouncer's few server connections; 200 payments and refunds at
once must all be answered truthfully (no 5xx) with every invariant of the scale tests
holding in the database. The schema is migrated and checked through PgBouncer. A URL
option paygate cannot pass on stops the process at start with one line; a startup
parameter PgBouncer refuses is `503 unavailable`, not a 500.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fleet import answered, codes, new_merchant, postgres_env, signed_call, spread
from gateway_client import ADMIN_TOKEN, Keys, payment_body
from pg_rows import PgRows
from pgbouncer import pgbouncer
from process_harness import Processes, run_cli
from sqlalchemy.engine import make_url

from adapters.persistence import upgrade_database_async
from entrypoints.cli.signing import signed_headers
from entrypoints.container import build_container, close_container
from entrypoints.http.factory import build_http_app
from entrypoints.settings import Settings

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PAYMENTS = "/api/v1/payments"
PAID_FIRST = 10  # payments made before the burst, each refunded during it
REFUNDS_EACH = 10  # refunds of 500 sent for each of them: 4 fit in 2 000
NEW_PAYMENTS = 200 - PAID_FIRST * REFUNDS_EACH
START_TIMEOUT = 90.0  # two workers importing paygate on a loaded host


@pytest.fixture(scope="module")
def bounced_url(module_postgres_url: str) -> Iterator[str]:
    """The module's schema, reached through PgBouncer (the URL keeps its search_path)."""
    with pgbouncer(module_postgres_url) as url:
        yield url


async def test_two_workers_behind_pgbouncer_answer_200_payments_and_refunds_truthfully(
    tmp_path: Path, module_postgres_url: str, bounced_url: str
) -> None:
    # migrated through PgBouncer, and `serve` checks the schema and the key through it
    await upgrade_database_async(bounced_url, pooler="pgbouncer")
    env = postgres_env(bounced_url, base64.b64encode(os.urandom(32)).decode(),
                       PAYGATE_DATABASE_POOLER="pgbouncer", PAYGATE_DATABASE_POOL_SIZE="10")
    processes = Processes(tmp_path)
    try:
        gateway = processes.start("gateway-pgbouncer", "serve", "--workers", "2", env=env)
        await asyncio.to_thread(gateway.wait_live, START_TIMEOUT)
        rows = PgRows(module_postgres_url)  # what was committed, read past PgBouncer
        keys = await new_merchant(gateway.base_url, f"Bounced {uuid.uuid4().hex[:6]}")
        urls = [gateway.base_url]
        first = answered(await spread(urls, keys, "POST", PAYMENTS, [
            payment_body(f"BOUNCE-FIRST-{i}", "4242424242424242", 2_000)
            for i in range(PAID_FIRST)]))
        assert codes(first) == {(201, None): PAID_FIRST}
        paid = [r.json()["payment_no"] for r in first]

        started = time.monotonic()
        burst = await asyncio.gather(
            spread(urls, keys, "POST", PAYMENTS, [
                payment_body(f"BOUNCE-{i}", "4242424242424242", 1_000)
                for i in range(NEW_PAYMENTS)]),
            *(spread(urls, keys, "POST", f"{PAYMENTS}/{payment_no}/refunds",
                     [{"amount": 500, "reason": f"part {i}"} for i in range(REFUNDS_EACH)])
              for payment_no in paid),
        )
        elapsed = time.monotonic() - started
        payments, refunds = answered(burst[0]), [answered(one) for one in burst[1:]]
    finally:
        processes.stop_all()
    print(f"pgbouncer: {NEW_PAYMENTS} payments and {PAID_FIRST * REFUNDS_EACH} refunds "
          f"at once in {elapsed:.2f} s")

    answers = payments + [r for each in refunds for r in each]
    assert [r.text for r in answers if r.status_code >= 500] == []
    assert codes(payments) == {(201, None): NEW_PAYMENTS}
    assert {r.json()["status"] for r in payments} == {"succeeded"}
    for each in refunds:
        tally = codes(each)
        assert tally.pop((201, None)) == 4, codes(each)
        assert set(tally) <= {(422, "amount_exceeded"), (409, "invalid_status")}, tally
    # each payment once, each capture posted once, refunds never beyond what was captured
    assert await rows.value(
        "SELECT count(*) FROM payments WHERE merchant_id = $1", keys.merchant_id
    ) == NEW_PAYMENTS + PAID_FIRST
    assert await rows.all(
        "SELECT order_no FROM payments WHERE merchant_id = $1 GROUP BY order_no "
        "HAVING count(*) > 1", keys.merchant_id) == []
    captures = await rows.captures_per_payment()
    assert set(captures.values()) == {1}
    assert len(captures) == NEW_PAYMENTS + PAID_FIRST
    assert await rows.all(
        "SELECT p.payment_no FROM payments p JOIN refunds r ON r.payment_no = p.payment_no "
        "AND r.status = 'succeeded' GROUP BY p.payment_no, p.amount, p.refunded_amount "
        "HAVING sum(r.amount) > p.amount OR sum(r.amount) <> p.refunded_amount") == []
    assert await rows.all(
        "SELECT status, refunded_amount FROM payments WHERE payment_no = ANY($1::text[])",
        paid) == [("refunded", 2_000)] * PAID_FIRST
    assert await rows.ledger_balanced()


def test_a_url_option_the_driver_cannot_use_stops_serve_at_start_with_one_line(
    tmp_path: Path,
) -> None:
    env = {"PAYGATE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
           "PAYGATE_ADMIN_TOKEN": ADMIN_TOKEN}
    for url, pooler, says in (
        ("postgresql+asyncpg://u@127.0.0.1/test?statement_cache_size=off", "none",
         "statement_cache_size must be a whole number"),
        ("postgresql+asyncpg://u@127.0.0.1/test?application_name=x", "none",
         "option 'application_name' is not one paygate passes on"),
        ("postgresql+asyncpg://u@127.0.0.1/test?statement_cache_size=100", "pgbouncer",
         "statement_cache_size must be 0 (or absent) behind pgbouncer"),
        ("sqlite+aiosqlite:///./paygate.db", "pgbouncer", "needs a postgresql+asyncpg:// URL"),
        ("postgresql+asyncpg://u@127.0.0.1/test", "odyssey", "PAYGATE_DATABASE_POOLER must be"),
    ):
        done = run_cli("serve", env={**env, "PAYGATE_DATABASE_URL": url,
                                     "PAYGATE_DATABASE_POOLER": pooler}, workdir=tmp_path)
        lines = (done.stdout + done.stderr).strip().splitlines()
        assert done.returncode == 2, (url, done.stdout, done.stderr)
        assert len(lines) == 1, (url, lines)
        assert says in lines[0], (url, lines)


async def test_a_startup_parameter_pgbouncer_refuses_is_answered_503_not_500(
    tmp_path: Path, bounced_url: str, master_key_file: Path
) -> None:
    """Forgetting the setting: the schema's search_path and the statement timeout go in
    the startup packet, which PgBouncer refuses; the database is unavailable, not broken."""
    assert make_url(bounced_url).query.get("search_path")
    settings = Settings(database_url=bounced_url, admin_token=ADMIN_TOKEN,
                        master_key_file=master_key_file, worker=False, tracing=False)
    container = build_container(settings)
    try:
        app = build_http_app(container)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://paygate.test") as client:
            raw = b'{"name": "Refused"}'
            admin = await client.post("/admin/v1/merchants", content=raw, headers={
                "Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"})
            target = f"{PAYMENTS}/pay_0000000000000000"
            signed = await client.get(target, headers=signed_headers(
                "pk_test_none", "sk_test_none", "GET", target, b""))
    finally:
        await close_container(container)
    for answer in (admin, signed):
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "unavailable"


async def test_a_signed_call_through_pgbouncer_sees_its_own_schema(
    tmp_path: Path, bounced_url: str, master_key_file: Path
) -> None:
    """search_path travels per transaction, not in the startup packet: a merchant made
    through PgBouncer is in the module's schema and is found again by its signed call."""
    await upgrade_database_async(bounced_url, pooler="pgbouncer")
    settings = Settings(database_url=bounced_url, database_pooler="pgbouncer",
                        admin_token=ADMIN_TOKEN, master_key_file=master_key_file,
                        worker=False, tracing=False)
    container = build_container(settings)
    try:
        app = build_http_app(container)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://paygate.test") as client:
            keys = await new_merchant_in_process(client)
            paid = await signed_call(client, "", keys, "POST", PAYMENTS,
                                     payment_body("BOUNCE-SELF", "4242424242424242", 700))
    finally:
        await close_container(container)
    assert paid.status_code == 201, paid.text
    assert paid.json()["status"] == "succeeded"


async def new_merchant_in_process(client: httpx.AsyncClient) -> Keys:
    response = await client.post("/admin/v1/merchants", content=b'{"name": "Self"}', headers={
        "Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    return Keys(**response.json())
