"""Merchant webhooks delivered for real: signed, with the API's objects as data, retried on
the schedule with the very same body, dead after it, and sent again by an operator.

The first test is a running `paygate serve` with its worker. The schedule is a day long, so
the others drive the `DeliverWebhooks` use case on a real SQLite file with a clock the test
moves, while `paygate webhooks list|retry` run as the operator would run them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from gateway_client import CARD_OK, Deployment, Rows, gateway_env
from in_process import MovableClock, paygate
from process_harness import run_cli, wait_for
from webhook_receiver import WebhookReceiver

from adapters.persistence import upgrade_database_async
from application.commands import CreateMerchantCommand, CreatePaymentCommand
from application.use_cases.deliver_webhooks import RETRY_SCHEDULE, DeliverWebhooks
from domain.card import CardDetails

pytestmark = pytest.mark.slow

NOTHING = {"delivered": 0, "retrying": 0, "dead": 0}
RETRYING = {**NOTHING, "retrying": 1}
DELIVERED = {**NOTHING, "delivered": 1}
DEAD = {**NOTHING, "dead": 1}


def test_payment_and_refund_events_reach_the_merchant_signed_with_the_objects_as_data(
    gateway_with_worker: Deployment, receiver: WebhookReceiver
) -> None:
    api = gateway_with_worker.api
    keys = api.new_merchant("Hooked Ltd")
    receiver.secret = keys.webhook_secret

    payment = api.pay(keys, "HOOK-1", notify_url=receiver.url("/hooks"))
    wait_for("payment.succeeded", lambda: receiver.delivered("payment.succeeded"))
    refund = api.refund(keys, payment["payment_no"], 2_500)
    wait_for("the refund's events", lambda: len(receiver.delivered()) == 3)

    assert payment["status"] == "succeeded"
    events = {d.event["type"]: d.event for d in receiver.delivered()}
    assert set(events) == {"payment.succeeded", "refund.succeeded", "payment.partially_refunded"}
    assert events["payment.succeeded"]["data"] == payment
    assert events["refund.succeeded"]["data"] == refund
    assert events["payment.partially_refunded"]["data"] == api.payment(keys, payment["payment_no"])
    assert all(e["id"].startswith("evt_") and e["created_at"] for e in events.values())
    assert receiver.refused == []
    assert {d.path for d in receiver.delivered()} == {"/hooks"}

    def stored_rows() -> list[tuple[object, ...]]:
        return gateway_with_worker.rows.all(
            "SELECT d.event_id, e.body, d.status, d.attempts FROM webhook_deliveries d"
            " JOIN events e ON e.event_id = d.event_id WHERE d.merchant_id = ?",
            keys.merchant_id,
        )

    # the merchant has its answer before the worker writes down that it was delivered
    wait_for("the deliveries to be recorded",
             lambda: {row[2] for row in stored_rows()} == {"delivered"})
    stored = stored_rows()
    sent = {d.event["id"]: d.body for d in receiver.delivered()}
    assert {row[0]: (row[1].encode(), row[2], row[3]) for row in stored} == {
        event_id: (body, "delivered", 1) for event_id, body in sent.items()
    }


@dataclass
class Outbox:
    """A gateway's database and use cases in the test process, at a movable moment."""

    deliver: DeliverWebhooks
    publish: Callable[[], Awaitable[object]]
    clock: MovableClock
    env: dict[str, str]
    workdir: Path
    receiver: WebhookReceiver
    merchant_id: str
    pay: Callable[[str, str], Awaitable[None]]

    async def event_for(self, order_no: str, path: str) -> str:
        """A succeeded payment announcing itself to `path`; its event's id."""
        await self.pay(order_no, self.receiver.url(path))
        await self.publish()
        rows = Rows(self.workdir / "paygate.db").all(
            "SELECT event_id FROM webhook_deliveries WHERE url = ?", self.receiver.url(path)
        )
        assert len(rows) == 1, rows
        return str(rows[0][0])


@pytest.fixture
async def outbox(
    tmp_path: Path, master_key: str, receiver: WebhookReceiver
) -> AsyncIterator[Outbox]:
    async with open_outbox(tmp_path, master_key, receiver) as opened:
        yield opened


@asynccontextmanager
async def open_outbox(
    tmp_path: Path, master_key: str, receiver: WebhookReceiver, **settings: str
) -> AsyncIterator[Outbox]:
    env = gateway_env(tmp_path, master_key, PAYGATE_WORKER="off", **settings)
    await upgrade_database_async(env["PAYGATE_DATABASE_URL"])
    clock = MovableClock()
    receiver.clock = clock.timestamp
    async with paygate(env, clock) as container:
        created = await container.use_cases.create_merchant()(
            CreateMerchantCommand(name="Retried Ltd")
        )
        receiver.secret = created.webhook_secret
        merchant_id = created.merchant.merchant_id

        async def pay(order_no: str, notify_url: str) -> None:
            command = CreatePaymentCommand(
                merchant_id=merchant_id,
                order_no=order_no,
                amount=1_000,
                currency="USD",
                channel="sandbox",
                card=CardDetails(CARD_OK, 12, 2030, "123"),
                notify_url=notify_url,
            )
            payment = await container.use_cases.create_payment()(command)
            assert payment.status.value == "succeeded"

        yield Outbox(
            container.use_cases.deliver_webhooks(),
            container.use_cases.publish_events(),
            clock,
            env,
            tmp_path,
            receiver,
            merchant_id,
            pay,
        )


async def test_by_default_a_webhook_to_a_private_address_is_refused_and_never_sent(
    tmp_path: Path, master_key: str, receiver: WebhookReceiver
) -> None:
    async with open_outbox(
        tmp_path, master_key, receiver, PAYGATE_WEBHOOK_ALLOW_PRIVATE=""  # the default
    ) as outbox:
        event_id = await outbox.event_for("PRIVATE-1", "/internal")

        assert await outbox.deliver() == RETRYING

    assert receiver.attempts(event_id) == []
    [(attempts, error)] = Rows(tmp_path / "paygate.db").all(
        "SELECT attempts, last_error FROM webhook_deliveries WHERE event_id = ?", event_id)
    assert attempts == 1
    assert error.startswith("BlockedDestination: 127.0.0.1, which is not a public address")
    assert "PAYGATE_WEBHOOK_ALLOW_PRIVATE=on" in error


def assert_one_body_per_event(receiver: WebhookReceiver, event_id: str, answers: list[int]) -> None:
    attempts = receiver.attempts(event_id)
    assert [a.answered for a in attempts] == answers
    assert len({a.body for a in attempts}) == 1, "a retry must send the same bytes"
    assert attempts[0].event["type"] == "payment.succeeded"
    stamps = [a.timestamp for a in attempts]
    assert stamps == sorted(set(stamps)), "each attempt is signed anew, at its own moment"
    assert receiver.refused == []


async def test_a_refused_delivery_is_retried_on_the_schedule_until_the_merchant_accepts_it(
    outbox: Outbox,
) -> None:
    event_id = await outbox.event_for("RETRY-1", "/flaky")
    outbox.receiver.fail("/flaky", times=2)
    second = timedelta(seconds=1)

    assert await outbox.deliver() == RETRYING
    outbox.clock.advance(RETRY_SCHEDULE[0] - second)
    assert await outbox.deliver() == NOTHING, "too early for the second attempt"
    outbox.clock.advance(second)
    assert await outbox.deliver() == RETRYING
    outbox.clock.advance(RETRY_SCHEDULE[1])
    assert await outbox.deliver() == DELIVERED
    outbox.clock.advance(timedelta(days=2))
    assert await outbox.deliver() == NOTHING, "a delivered event is never sent again"

    assert_one_body_per_event(outbox.receiver, event_id, [500, 500, 200])


async def test_an_event_dies_after_the_schedule_and_an_operator_retry_delivers_it(
    outbox: Outbox,
) -> None:
    event_id = await outbox.event_for("DEAD-1", "/down")
    outbox.receiver.fail("/down", times=len(RETRY_SCHEDULE) + 1)

    for wait in RETRY_SCHEDULE:
        assert await outbox.deliver() == RETRYING
        outbox.clock.advance(wait)
    assert await outbox.deliver() == DEAD
    outbox.clock.advance(timedelta(days=2))
    assert await outbox.deliver() == NOTHING, "a dead event waits for an operator"

    listed = run_cli(
        "webhooks", "list", "--status", "dead", "--json", env=outbox.env, workdir=outbox.workdir
    )
    assert listed.returncode == 0, listed.stderr
    [dead] = json.loads(listed.stdout)
    assert (dead["event_id"], dead["status"]) == (event_id, "dead")
    assert (dead["attempts"], dead["last_error"]) == (len(RETRY_SCHEDULE) + 1, "HTTP 500")

    retried = run_cli("webhooks", "retry", event_id, env=outbox.env, workdir=outbox.workdir)
    assert retried.returncode == 0, retried.stderr
    assert f"{event_id} queued for delivery" in retried.stdout
    scripted = run_cli("webhooks", "retry", event_id, "--json", env=outbox.env,
                       workdir=outbox.workdir)
    assert scripted.returncode == 0, scripted.stderr
    queued = json.loads(scripted.stdout)
    assert (queued["event_id"], queued["status"]) == (event_id, "pending")
    assert await outbox.deliver() == DELIVERED

    answers = [500] * (len(RETRY_SCHEDULE) + 1) + [200]
    assert_one_body_per_event(outbox.receiver, event_id, answers)
    assert Rows(outbox.workdir / "paygate.db").one(
        "SELECT status, attempts FROM webhook_deliveries WHERE event_id = ?", event_id
    ) == ("delivered", len(RETRY_SCHEDULE) + 2)
