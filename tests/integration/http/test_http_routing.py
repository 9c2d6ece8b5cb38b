"""Routing over HTTP, on SQLite and PostgreSQL: `channel` optional, the admin API's rules,
failover only when nothing was charged, and the attempts a payment shows."""

from __future__ import annotations

from typing import Any

import pytest
from dependency_injector import providers
from http_harness import CARD_DECLINED, SANDBOX_SECRET, Api, Keys, assert_error, payment_body

from adapters.channel.sandbox import SandboxChannel
from application.ports.channel import ChargeRequest, ChargeResult, Outcome

RULES = {"rules": [{"currency": "USD", "min_amount": None, "max_amount": 50_000,
                    "card_brand": None, "channels": ["sandbox", "backup"]}]}


class Unreachable(SandboxChannel):
    """A sandbox whose charges never leave paygate, as with a refused connection."""

    def __init__(self) -> None:
        super().__init__(SANDBOX_SECRET)
        self.asked = 0

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        self.asked += 1
        return ChargeResult(Outcome.FAILED, None, "channel_unavailable", "connection refused")


class Channels:
    def __init__(self) -> None:
        self.sandbox = Unreachable()
        self.backup = SandboxChannel(SANDBOX_SECRET)

    def all(self) -> dict[str, Any]:
        return {"sandbox": self.sandbox, "backup": self.backup}


@pytest.fixture
def channels() -> Channels:
    return Channels()


@pytest.fixture
async def routed_api(open_api: Any, any_db_url: str, channels: Channels) -> Api:
    api: Api = await open_api(
        any_db_url,
        adapt=lambda c: c.gateways.channels.override(providers.Object(channels.all())))
    return api


async def samples(api: Api) -> dict[str, float]:
    """Every sample of /metrics by name and labels (the registry outlives one test)."""
    text = (await api.client.get("/metrics")).text
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


def routed_body(order_no: str, **extra: Any) -> dict[str, Any]:
    body = payment_body(order_no, **extra)
    del body["channel"]
    return body


async def set_rules(api: Api, merchant_id: str, rules: Any) -> Any:
    return await api.admin("PUT", f"/admin/v1/merchants/{merchant_id}/routing", rules)


async def test_rules_are_set_and_read_back(routed_api: Api) -> None:
    keys = await routed_api.new_merchant("Acme")
    path = f"/admin/v1/merchants/{keys.merchant_id}/routing"
    empty = await routed_api.admin("GET", path)
    assert empty.status_code == 200, empty.text
    assert empty.json() == {"merchant_id": keys.merchant_id, "rules": []}

    put = await set_rules(routed_api, keys.merchant_id, RULES)
    got = await routed_api.admin("GET", path)

    assert put.status_code == 200, put.text
    assert put.json() == got.json() == {"merchant_id": keys.merchant_id, **RULES}


@pytest.mark.parametrize(
    ("rule", "status", "code"),
    [
        ({"channels": []}, 422, "validation_error"),
        ({"channels": ["adyen"]}, 422, "invalid_channel"),
        ({"channels": ["sandbox"], "min_amount": 5000, "max_amount": 100}, 422,
         "validation_error"),
        ({"channels": ["sandbox", "sandbox"]}, 422, "validation_error"),
        ({"channels": ["sandbox"], "currency": "XXX"}, 422, "validation_error"),
        ({"channels": ["sandbox"], "card_brand": "nope"}, 422, "validation_error"),
        ({"channels": ["sandbox"], "min_amount": -1}, 422, "validation_error"),
        ({"channels": ["sandbox"], "min_amount": 1.5}, 400, "malformed_request"),
        ({"channels": ["sandbox"], "weight": 3}, 422, "validation_error"),
        ({}, 422, "validation_error"),
    ],
)
async def test_bad_rules_get_a_clear_4xx_and_change_nothing(
    routed_api: Api, rule: dict[str, Any], status: int, code: str
) -> None:
    keys = await routed_api.new_merchant("Acme")
    await set_rules(routed_api, keys.merchant_id, RULES)

    response = await set_rules(routed_api, keys.merchant_id, {"rules": [rule]})

    error = assert_error(response, status, code)
    assert error["message"]
    kept = await routed_api.admin("GET", f"/admin/v1/merchants/{keys.merchant_id}/routing")
    assert kept.json()["rules"] == RULES["rules"]


async def test_more_than_100_rules_are_refused(routed_api: Api) -> None:
    keys = await routed_api.new_merchant("Acme")
    rule = {"channels": ["sandbox"]}
    assert (await set_rules(routed_api, keys.merchant_id,
                            {"rules": [rule] * 100})).status_code == 200
    response = await set_rules(routed_api, keys.merchant_id, {"rules": [rule] * 101})
    error = assert_error(response, 422, "validation_error")
    assert "at most 100 rules" in error["message"]


async def test_routing_needs_the_admin_token_and_a_known_merchant(routed_api: Api) -> None:
    path = "/admin/v1/merchants/mch_nobody/routing"
    assert_error(await routed_api.admin("GET", path), 404, "not_found")
    assert_error(await routed_api.admin("PUT", path, RULES), 404, "not_found")
    assert (await routed_api.admin("GET", path, token="wrong")).status_code == 401


async def test_a_payment_without_a_channel_fails_over_and_shows_its_attempts(
    routed_api: Api, channels: Channels
) -> None:
    keys = await routed_api.new_merchant("Acme")
    await set_rules(routed_api, keys.merchant_id, RULES)
    before = await samples(routed_api)

    created = await routed_api.call(keys, "POST", "/api/v1/payments", routed_body("O-1"))

    assert created.status_code == 201, created.text
    payment = created.json()
    assert payment["status"] == "succeeded"
    assert payment["channel"] == "backup"
    assert [(a["channel"], a["outcome"], a["failure_code"]) for a in payment["attempts"]] == [
        ("sandbox", "failed", "channel_unavailable"), ("backup", "succeeded", None)]
    assert all(a["started_at"].endswith("Z") for a in payment["attempts"])
    assert channels.sandbox.asked == 1
    assert channels.backup.charges_for(f"{payment['payment_no']}.2") == 1
    shown = await routed_api.call(keys, "GET", f"/api/v1/payments/{payment['payment_no']}")
    assert shown.json() == payment
    listed = await routed_api.call(keys, "GET", "/api/v1/payments")
    assert listed.json()["data"][0]["attempts"] == payment["attempts"]
    counts = await routed_api.counts()
    assert counts["payment_attempts"] == 2
    after = await samples(routed_api)
    failover = ('payment_gateway_failover_total{from_channel="sandbox",reason="not_sent",'
                'to_channel="backup"}')
    took = 'payment_gateway_payment_total{channel="backup",currency="USD",status="success"}'
    assert after[failover] - before.get(failover, 0.0) == 1.0
    assert after[took] - before.get(took, 0.0) == 1.0


async def test_a_decline_is_the_card_s_answer_and_never_fails_over(
    routed_api: Api, channels: Channels
) -> None:
    keys = await routed_api.new_merchant("Acme")
    await set_rules(routed_api, keys.merchant_id, {"rules": [{"channels": ["backup", "sandbox"]}]})

    created = await routed_api.call(keys, "POST", "/api/v1/payments",
                                    routed_body("O-2", card=CARD_DECLINED))

    payment = created.json()
    assert (payment["status"], payment["channel"], payment["failure_code"]) == (
        "failed", "backup", "card_declined")
    assert [a["channel"] for a in payment["attempts"]] == ["backup"]
    assert channels.sandbox.asked == 0


async def test_a_named_channel_is_honoured_and_writes_no_attempt_row(
    routed_api: Api, channels: Channels
) -> None:
    keys = await routed_api.new_merchant("Acme")
    await set_rules(routed_api, keys.merchant_id, RULES)

    created = await routed_api.call(keys, "POST", "/api/v1/payments",
                                    payment_body("O-3", channel="sandbox"))

    payment = created.json()
    assert (payment["status"], payment["channel"], payment["failure_code"]) == (
        "failed", "sandbox", "channel_unavailable")
    assert payment["attempts"] == [{"channel": "sandbox", "outcome": "failed",
                                    "failure_code": "channel_unavailable",
                                    "started_at": payment["created_at"]}]
    assert channels.backup.charges_for(payment["payment_no"]) == 0
    assert (await routed_api.counts())["payment_attempts"] == 0


async def test_an_unknown_named_channel_is_invalid_channel(routed_api: Api) -> None:
    keys = await routed_api.new_merchant("Acme")
    response = await routed_api.call(keys, "POST", "/api/v1/payments",
                                     payment_body("O-4", channel="adyen"))
    assert_error(response, 422, "invalid_channel")


async def test_without_rules_the_default_route_takes_the_payment(
    routed_api: Api, channels: Channels
) -> None:
    """PAYGATE_DEFAULT_ROUTE is `sandbox` here: unreachable, and nothing to fail over to."""
    keys: Keys = await routed_api.new_merchant("Acme")
    created = await routed_api.call(keys, "POST", "/api/v1/payments", routed_body("O-5"))
    payment = created.json()
    assert (payment["channel"], payment["status"]) == ("sandbox", "failed")
    assert len(payment["attempts"]) == 1


async def test_refunds_go_to_the_channel_that_took_the_payment(
    routed_api: Api, channels: Channels
) -> None:
    keys = await routed_api.new_merchant("Acme")
    await set_rules(routed_api, keys.merchant_id, RULES)
    payment = (await routed_api.call(keys, "POST", "/api/v1/payments",
                                     routed_body("O-6"))).json()

    refund = await routed_api.call(keys, "POST",
                                   f"/api/v1/payments/{payment['payment_no']}/refunds",
                                   {"amount": 1000})

    assert refund.status_code == 201, refund.text
    assert channels.backup.refunds_for(refund.json()["refund_no"]) == 1
    assert channels.sandbox.refunds_for(refund.json()["refund_no"]) == 0
