"""Who delivers webhooks: `paygate serve` by itself (PAYGATE_WORKER=on, the default), or
with PAYGATE_WORKER=off nobody until `paygate worker` runs as a process of its own."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from gateway_client import CARD_OK, Deployment, Rows, gateway_env
from in_process import MovableClock, paygate
from process_harness import Processes, wait_for
from webhook_receiver import WebhookReceiver

from adapters.persistence import upgrade_database_async
from application.commands import CreateMerchantCommand, CreatePaymentCommand
from application.ports.storage import StoredResponse
from domain.card import CardDetails

pytestmark = pytest.mark.slow

WORKER_INTERVAL = 1.0
"""How often the background worker looks for due webhooks (BackgroundWorker's default)."""


def test_a_server_with_its_worker_on_delivers_webhooks_by_itself(
    gateway_with_worker: Deployment, receiver: WebhookReceiver
) -> None:
    keys = gateway_with_worker.api.new_merchant("Worker On Ltd")
    receiver.secret = keys.webhook_secret

    payment = gateway_with_worker.api.pay(keys, "WORKER-ON", notify_url=receiver.url())

    wait_for("the server's worker to deliver", receiver.delivered, timeout=10)
    [delivery] = receiver.delivered()
    assert delivery.event["type"] == "payment.succeeded"
    assert delivery.event["data"]["payment_no"] == payment["payment_no"]


def test_with_the_worker_off_only_a_separate_paygate_worker_delivers(
    gateway_without_worker: Deployment, receiver: WebhookReceiver, processes: Processes
) -> None:
    gateway = gateway_without_worker
    keys = gateway.api.new_merchant("Worker Off Ltd")
    receiver.secret = keys.webhook_secret

    payment = gateway.api.pay(keys, "WORKER-OFF", notify_url=receiver.url())
    time.sleep(2.5 * WORKER_INTERVAL)

    assert receiver.deliveries == [], "a server with PAYGATE_WORKER=off delivered a webhook"
    assert gateway.rows.waiting_entries(keys.merchant_id) == 2, "nobody publishes either"
    outbox = "SELECT status, attempts FROM webhook_deliveries WHERE merchant_id = ?"

    worker = processes.start("worker", "worker", env=gateway.env, serves=False)
    wait_for("paygate worker to deliver", receiver.delivered, timeout=15)

    [delivery] = receiver.delivered()
    assert delivery.event["data"]["payment_no"] == payment["payment_no"]
    assert receiver.refused == []
    wait_for(
        "the delivery to be recorded",
        lambda: gateway.rows.all(outbox, keys.merchant_id) == [("delivered", 1)],
    )
    wait_for("the worker to say what it did", lambda: "background job done" in worker.output())
    written = [json.loads(line) for line in worker.output().splitlines() if line.strip()]
    assert any(e["message"] == "background job done" for e in written)


async def test_the_worker_deletes_idempotency_keys_a_day_old_and_keeps_newer_ones(
    tmp_path: Path, master_key: str
) -> None:
    env = gateway_env(tmp_path, master_key, PAYGATE_WORKER="off")
    await upgrade_database_async(env["PAYGATE_DATABASE_URL"])
    clock = MovableClock()
    async with paygate(env, clock) as container:
        idempotency = container.use_cases.idempotency()
        answered = StoredResponse(201, b"{}")

        async def answer() -> StoredResponse:
            return answered

        await idempotency.run("mch_1", "yesterday", "fp", answer)
        clock.advance(timedelta(hours=23))
        await idempotency.run("mch_1", "today", "fp", answer)
        clock.advance(timedelta(hours=1, seconds=1))

        purge, every = container.background().jobs["idempotency_keys"]
        assert await purge() == {"idempotency_keys_purged": 1}
        assert every == 600.0

    keys = Rows(tmp_path / "paygate.db").all("SELECT key FROM idempotency_keys")
    assert keys == [("today",)]


async def test_the_worker_publishes_the_feed_and_forgets_events_past_the_retention(
    tmp_path: Path, master_key: str
) -> None:
    env = gateway_env(tmp_path, master_key, PAYGATE_WORKER="off",
                      PAYGATE_EVENT_RETENTION_DAYS="2")
    await upgrade_database_async(env["PAYGATE_DATABASE_URL"])
    clock = MovableClock()
    async with paygate(env, clock) as container:
        merchant = await container.use_cases.create_merchant()(CreateMerchantCommand(name="Old"))
        await container.use_cases.create_payment()(CreatePaymentCommand(
            merchant_id=merchant.merchant.merchant_id, order_no="OLD-1", amount=1_000,
            currency="USD", channel="sandbox", card=CardDetails(CARD_OK, 12, 2030, "123")))
        jobs = container.background().jobs
        publish, every = jobs["events"]
        assert (await publish(), every) == ({"published": 3, "deliveries": 0}, 0.2)
        prune, every = jobs["event_retention"]
        clock.advance(timedelta(days=2))
        assert (await prune(), every) == ({"pruned": 0}, 600.0)
        clock.advance(timedelta(seconds=1))
        assert await prune() == {"pruned": 3}

    assert Rows(tmp_path / "paygate.db").count("events") == 0

async def test_the_worker_deletes_used_signatures_once_their_window_is_over(
    tmp_path: Path, master_key: str
) -> None:
    env = gateway_env(tmp_path, master_key, PAYGATE_WORKER="off")
    await upgrade_database_async(env["PAYGATE_DATABASE_URL"])
    clock = MovableClock()
    async with paygate(env, clock) as container:
        guard = container.core.replays()
        stamp = int(clock.now().timestamp())
        await guard.spend({"method": "POST"}, "mch_1", "sig-old", stamp, None)
        clock.advance(timedelta(minutes=5))
        await guard.spend({"method": "POST"}, "mch_1", "sig-new", stamp + 300, None)
        clock.advance(timedelta(minutes=2))

        purge, every = container.background().jobs["used_signatures"]
        assert await purge() == {"used_signatures_purged": 1}
        assert every == 60.0

    spent = Rows(tmp_path / "paygate.db").all("SELECT signature_sha256 FROM used_signatures")
    assert spent == [(hashlib.sha256(b"sig-new").hexdigest(),)]
