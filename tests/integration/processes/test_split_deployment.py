"""A split deployment: `paygate serve` reaching `serve-risk`, `serve-order` and
`serve-channel`, four processes on four ports, over real HTTP.

The tests run in file order on one deployment; the last one stops the channel service and
starts it again, and leaves it running.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from gateway_client import (
    CARD_CAPTURE_UNKNOWN,
    CARD_OK,
    CARD_REVIEW,
    CARD_RISK_REJECT,
    CARD_UNKNOWN,
    SANDBOX_SECRET,
    Gateway,
    Keys,
    Rows,
    gateway_env,
    payment_body,
    requests_served,
)
from in_process import MovableClock, paygate
from process_harness import PaygateProcess, Processes, sqlite_url, wait_for

pytestmark = pytest.mark.slow

BREAKER_FAILURE_THRESHOLD = 3
"""One payment's three attempts at a refused connection open the channel's breaker."""
BREAKER_RECOVERY_SECONDS = 4.0
SERVICE_TOKEN = "split-suite-service-token"


@dataclass(frozen=True, slots=True)
class Split:
    api: Gateway
    keys: Keys
    env: dict[str, str]
    risk: PaygateProcess
    channel: PaygateProcess
    order: PaygateProcess
    gateway_rows: Rows
    order_rows: Rows


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory, master_key: str) -> Iterator[Split]:
    workdir: Path = tmp_path_factory.mktemp("split")
    started = Processes(workdir)
    shared = {"PAYGATE_MASTER_KEY": master_key, "PAYGATE_SANDBOX_SECRET": SANDBOX_SECRET,
              "PAYGATE_SERVICE_TOKEN": SERVICE_TOKEN}
    orders_url = sqlite_url(workdir / "orders.db")
    try:
        risk = started.start("risk", "serve-risk", env=shared)
        order = started.start(
            "order", "serve-order", env={**shared, "PAYGATE_DATABASE_URL": orders_url}
        )
        channel = started.start("channel", "serve-channel", env=shared)
        env = gateway_env(
            workdir,
            master_key,
            PAYGATE_WORKER="off",
            PAYGATE_RISK_URL=risk.base_url,
            PAYGATE_ORDER_URL=order.base_url,
            PAYGATE_CHANNEL_URL=channel.base_url,
            PAYGATE_REMOTE_TIMEOUT="2",
            PAYGATE_BREAKER_FAILURE_THRESHOLD=str(BREAKER_FAILURE_THRESHOLD),
            PAYGATE_BREAKER_RECOVERY_SECONDS=str(BREAKER_RECOVERY_SECONDS),
            PAYGATE_SERVICE_TOKEN=SERVICE_TOKEN,
        )
        gateway = started.start("gateway", "serve", env=env)
        for process in (risk, order, channel, gateway):
            process.wait_live()
        api = Gateway(gateway.base_url)
        try:
            yield Split(
                api,
                api.new_merchant("Split Ltd"),
                env,
                risk,
                channel,
                order,
                Rows(workdir / "paygate.db"),
                Rows(workdir / "orders.db"),
            )
        finally:
            api.close()
    finally:
        started.stop_all()


def order_row(split: Split, order_no: str) -> tuple[object, ...]:
    return split.order_rows.one(
        "SELECT payment_no, amount, currency, status FROM orders "
        "WHERE merchant_id = ? AND order_no = ?",
        split.keys.merchant_id,
        order_no,
    )


def test_a_payment_succeeds_end_to_end_and_its_order_lives_in_the_order_service(
    split: Split,
) -> None:
    payment = split.api.pay(split.keys, "SPLIT-OK", amount=4_200)

    assert payment["status"] == "succeeded", payment
    assert payment["failure_code"] is None
    assert payment["risk"]["decision"] == "approve"
    assert split.api.payment(split.keys, payment["payment_no"]) == payment
    assert order_row(split, "SPLIT-OK") == (payment["payment_no"], 4_200, "USD", "succeeded")
    assert split.gateway_rows.count("orders") == 0, "orders belong to the order service"
    assert split.gateway_rows.count("ledger_entries") > 0


@pytest.mark.parametrize(("service", "path"), [
    ("risk", "/v1/risk/assess"), ("channel", "/v1/charges"), ("order", "/v1/orders"),
])
def test_the_services_answer_only_callers_with_the_token(
    split: Split, service: str, path: str
) -> None:
    """The gateway's calls above and below carry it; anyone else's get 401."""
    base_url = getattr(split, service).base_url
    for headers in ({}, {"Authorization": "Bearer guessed"}):
        refused = httpx.post(f"{base_url}{path}", content=b"{}", headers=headers, timeout=10)
        assert refused.status_code == 401, refused.text
    assert httpx.get(f"{base_url}/health/live", timeout=10).status_code == 200


@pytest.mark.parametrize(("service", "checks"), [
    ("risk", {}), ("channel", {}), ("order", {"database": {"ok": True, "detail": "reachable"}}),
])
def test_each_service_answers_its_readiness_probe_without_the_token(
    split: Split, service: str, checks: dict[str, object]
) -> None:
    ready = httpx.get(f"{getattr(split, service).base_url}/health/ready", timeout=10)
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "checks": checks})


def test_the_remote_risk_service_sends_cards_to_review_and_rejects_others(split: Split) -> None:
    assessed = requests_served(split.risk.base_url, "/v1/risk")

    review = split.api.pay(split.keys, "SPLIT-REVIEW", card=CARD_REVIEW)
    reject = split.api.pay(split.keys, "SPLIT-REJECT", card=CARD_RISK_REJECT)

    assert review["status"] == "requires_review", review
    assert review["risk"]["decision"] == "review"
    assert reject["status"] == "rejected", reject
    assert reject["failure_code"] == "risk_rejected"
    assert requests_served(split.risk.base_url, "/v1/risk") == assessed + 2


def test_an_approved_review_is_charged_through_the_remote_channel(split: Split) -> None:
    review = split.api.pay(split.keys, "SPLIT-APPROVED", card=CARD_REVIEW)
    assert review["status"] == "requires_review", review
    calls = requests_served(split.channel.base_url, "/v1/")

    response = split.api.admin(
        f"/admin/v1/payments/{review['payment_no']}/review", {"decision": "approve"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded"
    assert order_row(split, "SPLIT-APPROVED")[3] == "succeeded"
    assert requests_served(split.channel.base_url, "/v1/") == calls + 1


def test_a_partial_refund_goes_through_the_remote_channel(split: Split) -> None:
    payment = split.api.pay(split.keys, "SPLIT-REFUND")
    calls = requests_served(split.channel.base_url, "/v1/")

    refund = split.api.refund(split.keys, payment["payment_no"], 2_500)

    assert refund["status"] == "succeeded", refund
    assert (refund["amount"], refund["currency"]) == (2_500, "USD")
    after = split.api.payment(split.keys, payment["payment_no"])
    assert (after["status"], after["refunded_amount"]) == ("partially_refunded", 2_500)
    assert requests_served(split.channel.base_url, "/v1/") == calls + 1


async def test_an_unknown_outcome_stays_processing_until_the_reconciler_asks_the_channel(
    split: Split,
) -> None:
    payment = split.api.pay(split.keys, "SPLIT-UNKNOWN", card=CARD_UNKNOWN)
    assert payment["status"] == "processing", payment
    assert order_row(split, "SPLIT-UNKNOWN")[3] == "created"

    past_the_grace_period = MovableClock(datetime.now(UTC) + timedelta(minutes=2))
    async with paygate(split.env, past_the_grace_period) as container:
        counts = await container.use_cases.reconcile()()

    assert counts == {"succeeded": 1}
    assert split.api.payment(split.keys, payment["payment_no"])["status"] == "succeeded"
    assert order_row(split, "SPLIT-UNKNOWN")[3] == "succeeded"


async def test_holds_are_captured_and_voided_through_the_remote_channel(split: Split) -> None:
    """A capture whose answer is lost (4000000000001000) is finished by the reconciler,
    which asks the channel service about it rather than capturing again."""
    lost = split.api.pay(split.keys, "SPLIT-HOLD-1", card=CARD_CAPTURE_UNKNOWN,
                         capture_method="manual")
    voided = split.api.pay(split.keys, "SPLIT-HOLD-2", capture_method="manual")
    assert (lost["status"], voided["status"]) == ("requires_capture", "requires_capture")

    answered = split.api.call(split.keys, "POST",
                              f"/api/v1/payments/{lost['payment_no']}/capture",
                              {"amount_to_capture": 4_000})
    canceled = split.api.call(split.keys, "POST",
                              f"/api/v1/payments/{voided['payment_no']}/cancel", {})
    assert (answered.status_code, answered.json()["status"]) == (200, "requires_capture")
    assert (canceled.status_code, canceled.json()["status"]) == (200, "canceled")
    assert order_row(split, "SPLIT-HOLD-2")[3] == "canceled"

    past_the_grace_period = MovableClock(datetime.now(UTC) + timedelta(minutes=2))
    async with paygate(split.env, past_the_grace_period) as container:
        counts = await container.use_cases.reconcile()()

    assert counts == {"capture_succeeded": 1}
    captured = split.api.payment(split.keys, lost["payment_no"])
    assert (captured["status"], captured["amount_captured"]) == ("succeeded", 4_000)
    assert order_row(split, "SPLIT-HOLD-1")[3] == "succeeded"


def test_a_gateway_the_services_refuse_writes_nothing_and_turns_unready(
    split: Split, tmp_path: Path, master_key: str
) -> None:
    """A rollout with another PAYGATE_SERVICE_TOKEN: its payments are 503 with nothing
    written, and after the breaker's threshold its readiness names the service."""
    started = Processes(tmp_path)
    try:
        env = {**split.env, **gateway_env(tmp_path, master_key),
               "PAYGATE_SERVICE_TOKEN": "not-the-services-token"}
        wrong = Gateway(started.start("wrong-token", "serve", env=env).wait_live().base_url)
        keys = wrong.new_merchant("Rollout Ltd")
        assert wrong.ready().status_code == 200

        answers = [
            wrong.call(keys, "POST", "/api/v1/payments", payment_body(f"WRONG-{n}", CARD_OK, 500))
            for n in range(BREAKER_FAILURE_THRESHOLD)
        ]
        ready = wrong.ready()
        wrong.close()
    finally:
        started.stop_all()

    assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [
        (503, "unavailable")] * BREAKER_FAILURE_THRESHOLD
    assert ready.status_code == 503, ready.text
    assert ready.json()["checks"]["risk"] == {"ok": False, "detail": "circuit open"}
    assert Rows(tmp_path / "paygate.db").count("payments") == 0


def test_a_dead_channel_fails_payments_fast_and_they_succeed_again_once_it_is_back(
    split: Split,
) -> None:
    split.channel.stop()

    refused = split.api.pay(split.keys, "SPLIT-DOWN-1")
    ready = split.api.ready()
    fast = split.api.pay(split.keys, "SPLIT-DOWN-2")

    assert (refused["status"], refused["failure_code"]) == ("failed", "channel_unavailable")
    assert ready.status_code == 503, ready.text
    assert ready.json()["checks"]["channel:sandbox"] == {"ok": False, "detail": "circuit open"}
    assert ready.json()["checks"]["database"]["ok"] is True
    assert (fast["status"], fast["failure_code"]) == ("failed", "channel_unavailable")
    assert "circuit breaker is open" in fast["failure_message"], fast

    split.channel.start().wait_live()
    wait_for(
        "the channel circuit to let a trial call through",
        lambda: split.api.ready().status_code == 200,
        timeout=BREAKER_RECOVERY_SECONDS + 5,
    )
    back = split.api.pay(split.keys, "SPLIT-BACK")

    assert back["status"] == "succeeded", back
    checks = split.api.ready().json()["checks"]
    assert checks["channel:sandbox"] == {"ok": True, "detail": "circuit closed"}
