"""An operator disables a merchant with `paygate merchants disable`; a running server then
refuses that merchant's API calls with 403, and nobody else's, and an operator can still
refund the merchant's payments.

A server caches a merchant's credentials for up to a minute after its last call, so the
merchant whose refusal is checked here is one the server has not seen yet."""

from __future__ import annotations

import json
from typing import Any

import pytest
from gateway_client import Deployment
from process_harness import run_cli

pytestmark = pytest.mark.slow


def disable(gateway: Deployment, merchant_id: str) -> dict[str, Any]:
    done = run_cli("merchants", "disable", merchant_id, "--json",
                   env=gateway.env, workdir=gateway.workdir)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_a_disabled_merchant_is_refused_and_nobody_else(
    gateway_without_worker: Deployment,
) -> None:
    api = gateway_without_worker.api
    suspended, fine = api.new_merchant("Suspended Ltd"), api.new_merchant("Fine Ltd")

    assert disable(gateway_without_worker, suspended.merchant_id)["active"] is False

    refused = api.call(suspended, "GET", "/api/v1/payments")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert api.call(fine, "GET", "/api/v1/payments").status_code == 200


def test_an_operator_still_refunds_a_disabled_merchant_s_payment(
    gateway_without_worker: Deployment,
) -> None:
    api = gateway_without_worker.api
    merchant = api.new_merchant("Closing Ltd")
    paid = api.pay(merchant, "BEFORE-SUSPENSION")
    disable(gateway_without_worker, merchant.merchant_id)

    refund = api.admin(f"/admin/v1/payments/{paid['payment_no']}/refunds", {"amount": 100})

    assert refund.status_code == 201, refund.text
    assert refund.json()["status"] == "succeeded"
