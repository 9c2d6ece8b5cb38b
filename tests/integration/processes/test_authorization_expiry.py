"""A real `paygate serve` with its worker, whose sandbox holds authorizations one second:
an uncaptured one is voided by the worker within seconds, announced to the merchant, and
a capture after that is `authorization_expired`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_client import Deployment, Gateway, Rows, gateway_env
from process_harness import Processes, wait_for
from webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.slow


@pytest.fixture
def short_holds(tmp_path: Path, master_key: str, processes: Processes) -> Iterator[Deployment]:
    env = gateway_env(tmp_path, master_key, PAYGATE_SANDBOX_AUTHORIZATION_TTL="1")
    process = processes.start("gateway", "serve", env=env).wait_live()
    api = Gateway(process.base_url)
    try:
        yield Deployment(process, api, Rows(tmp_path / "paygate.db"), env, tmp_path)
    finally:
        api.close()


def test_an_authorization_left_uncaptured_expires_in_the_worker_and_is_announced(
    short_holds: Deployment, receiver: WebhookReceiver
) -> None:
    api = short_holds.api
    keys = api.new_merchant("Slow Shipper Ltd")
    receiver.secret = keys.webhook_secret

    held = api.pay(keys, "EXPIRES", capture_method="manual", notify_url=receiver.url())
    assert held["status"] == "requires_capture"

    wait_for("the worker to void the lapsed hold",
             lambda: receiver.delivered("payment.canceled"), timeout=15)
    [announced] = receiver.delivered("payment.canceled")
    assert announced.event["data"]["cancellation_reason"] == "expired"
    expired = api.payment(keys, held["payment_no"])
    assert (expired["status"], expired["amount_captured"]) == ("canceled", 0)
    assert short_holds.rows.count("ledger_entries") == 0

    late = api.call(keys, "POST", f"/api/v1/payments/{held['payment_no']}/capture", {})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "authorization_expired")
