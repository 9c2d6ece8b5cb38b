"""A captured signed refund replayed at two gateway processes on one database: one refund."""

from __future__ import annotations

import httpx
import pytest
from gateway_client import Gateway, Rows, encode, gateway_env
from process_harness import Processes

from entrypoints.cli.signing import signed_headers

pytestmark = pytest.mark.slow


def test_the_same_signed_refund_sent_to_two_gateways_three_times_refunds_once(
    processes: Processes, master_key: str
) -> None:
    env = gateway_env(processes.workdir, master_key, PAYGATE_WORKER="off")
    first = processes.start("first", "serve", env=env).wait_live()
    second = processes.start("second", "serve", env=env).wait_live()
    api = Gateway(first.base_url)
    keys = api.new_merchant()
    payment = api.pay(keys, "ORDER-REPLAYED")
    target = f"/api/v1/payments/{payment['payment_no']}/refunds"
    raw = encode({"amount": 2_500})
    headers = {**signed_headers(keys.api_key, keys.api_secret, "POST", target, raw),
               "Content-Type": "application/json"}

    statuses = [httpx.post(f"{base}{target}", content=raw, headers=headers, timeout=10)
                for base in (first.base_url, second.base_url, first.base_url)]
    api.close()

    assert [s.status_code for s in statuses] == [201, 401, 401], [s.text for s in statuses]
    assert all("signature already used" in s.text for s in statuses[1:])
    rows = Rows(processes.workdir / "paygate.db")
    assert rows.one("SELECT count(*), sum(amount) FROM refunds") == (1, 2_500)
