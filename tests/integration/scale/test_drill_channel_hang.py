"""Drill: the channel service hangs longer than the gateway waits.

The payment must end `processing` (the money may have moved), never `failed` and never
charged twice: the gateway's own retries reach the channel too, and the sandbox counts the
charges it really made per idempotency key. A reconciler patient enough for the slow
channel settles the payment.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from drill_report import report
from gateway_client import SANDBOX_SECRET, Gateway, Rows, gateway_env
from in_process import MovableClock, paygate
from process_harness import Processes

pytestmark = pytest.mark.slow

CHANNEL_LATENCY_MS = 3_000
GATEWAY_TIMEOUT_S = 0.5


async def test_a_hanging_channel_leaves_the_payment_processing_until_reconciled(
    processes: Processes, tmp_path: Path, master_key: str
) -> None:
    channel_env = {
        "PAYGATE_MASTER_KEY": master_key,
        "PAYGATE_SANDBOX_SECRET": SANDBOX_SECRET,
        "PAYGATE_SANDBOX_LATENCY_MS": str(CHANNEL_LATENCY_MS),
    }
    channel = processes.start("channel", "serve-channel", env=channel_env)
    env = gateway_env(
        tmp_path,
        master_key,
        PAYGATE_WORKER="off",
        PAYGATE_CHANNEL_URL=channel.base_url,
        PAYGATE_REMOTE_TIMEOUT=str(GATEWAY_TIMEOUT_S),
    )
    gateway = processes.start("gateway", "serve", env=env)
    channel.wait_live()
    gateway.wait_live()
    api, rows = Gateway(gateway.base_url), Rows(tmp_path / "paygate.db")
    try:
        keys = api.new_merchant("Hang Ltd")

        hung = api.pay(keys, "HANG-1")

        assert hung["status"] == "processing", hung
        payment_no = hung["payment_no"]

        past_grace = MovableClock(datetime.now(UTC) + timedelta(minutes=2))
        patient = {**env, "PAYGATE_REMOTE_TIMEOUT": str(CHANNEL_LATENCY_MS / 1000 * 3)}
        async with paygate(patient, past_grace) as container:
            counts = await container.use_cases.reconcile()()

        assert counts == {"succeeded": 1}
        settled = await asyncio.to_thread(api.payment, keys, payment_no)
        assert settled["status"] == "succeeded", settled
        captures = rows.all(
            "SELECT DISTINCT posting_id FROM ledger_entries WHERE posting_id LIKE 'capture:%'"
        )
        assert captures == [(f"capture:{payment_no}",)]
        async with httpx.AsyncClient(base_url=channel.base_url, timeout=10) as client:
            charged = await client.get(f"/sandbox/charges/{payment_no}")
        assert charged.json()["executions"] == 1, charged.text
        report(
            "channel-hang",
            sent=1,
            processing_after_timeout=1,
            reconciled=counts,
            captures=len(captures),
            channel_charges=charged.json()["executions"],
            double_charges=charged.json()["executions"] - 1,
        )
    finally:
        api.close()
