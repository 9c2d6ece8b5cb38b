"""Every state-changing operator action checks the operator's role first and writes one
audit row in the unit of work of its change: a refusal writes nothing, and a failure at
commit loses the change and its row together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from application.commands import (
    CancelPaymentCommand,
    CapturePaymentCommand,
    CreateMerchantCommand,
    CreateRefundCommand,
    ReviewPaymentCommand,
    SettleCommand,
)
from application.errors import NotFound, Unavailable
from application.ports.events import DeliveryStatus, WebhookDelivery
from application.ports.storage import AuditQuery
from domain.errors import Forbidden
from domain.operator import BOOTSTRAP_ACTOR, Action, Actor, Role
from tests.unit.fakes import Gateway
from tests.unit.fakes.external import REVIEW_CARD

OTTO = Actor("otto", Role.OPERATOR)
VERA = Actor("vera", Role.VIEWER)
TRACE = "0af7651916cd43dd8448eb211c80319c"

Setup = Callable[[Gateway, str], Awaitable[Any]]
Run = Callable[[Gateway, Any, Actor], Awaitable[Any]]


async def _in_review(g: Gateway, merchant_id: str) -> str:
    return (await g.pay(merchant_id, REVIEW_CARD)).payment_no


async def _paid(g: Gateway, merchant_id: str) -> str:
    return (await g.pay(merchant_id)).payment_no


async def _authorized(g: Gateway, merchant_id: str) -> str:
    return (await g.authorize(merchant_id)).payment_no


async def _merchant(g: Gateway, merchant_id: str) -> str:
    return merchant_id


async def _paid_yesterday(g: Gateway, merchant_id: str) -> SettleCommand:
    await g.pay(merchant_id)
    day = g.clock.now().date()
    g.clock.advance(days=1)
    return SettleCommand(merchant_id=merchant_id, day=day)


async def _dead_delivery(g: Gateway, merchant_id: str) -> str:
    now = g.clock.now()
    async with g.uow() as uow:
        await uow.deliveries.add([WebhookDelivery(
            delivery_id="dlv_1", event_id="evt_1", merchant_id=merchant_id,
            type="payment.succeeded", endpoint_id=None, url="https://hooks.example/x",
            created_at=now, next_attempt_at=now + timedelta(hours=1), attempts=12,
            status=DeliveryStatus.DEAD)])
        await uow.commit()
    return "evt_1"


async def _an_operator(g: Gateway, merchant_id: str) -> str:
    await g.services.create_operator(BOOTSTRAP_ACTOR, "bob", "operator")
    return "bob"


async def _review(g: Gateway, payment_no: Any, actor: Actor) -> Any:
    return await g.review_payment(ReviewPaymentCommand(
        payment_no=payment_no, decision="reject", note="stolen card", actor=actor))


async def _refund(g: Gateway, payment_no: Any, actor: Actor) -> Any:
    return await g.create_refund(CreateRefundCommand(
        payment_no=payment_no, merchant_id=None, amount=500, reason="damaged", actor=actor))


async def _capture(g: Gateway, payment_no: Any, actor: Actor) -> Any:
    return await g.capture_payment(CapturePaymentCommand(
        payment_no=payment_no, merchant_id=None, amount=6000, actor=actor))


async def _cancel(g: Gateway, payment_no: Any, actor: Actor) -> Any:
    return await g.cancel_payment(CancelPaymentCommand(
        payment_no=payment_no, merchant_id=None, reason="out of stock", actor=actor))


async def _settle(g: Gateway, command: Any, actor: Actor) -> Any:
    return await g.settle(SettleCommand(merchant_id=command.merchant_id, day=command.day,
                                        actor=actor))


async def _create_merchant(g: Gateway, _: Any, actor: Actor) -> Any:
    return await g.create_merchant(CreateMerchantCommand(name="Beta", actor=actor))


async def _disable_merchant(g: Gateway, merchant_id: Any, actor: Actor) -> Any:
    return await g.services.set_merchant_active(merchant_id, active=False, actor=actor,
                                                reason="chargebacks")


async def _retry(g: Gateway, event_id: Any, actor: Actor) -> Any:
    return await g.retry_webhook(event_id, actor=actor)


async def _create_operator(g: Gateway, _: Any, actor: Actor) -> Any:
    return await g.services.create_operator(actor, "alice", "viewer")


async def _disable_operator(g: Gateway, name: Any, actor: Actor) -> Any:
    return await g.services.disable_operator(actor, name, "left the team")


# set-up, the action, its name, who may, the row's object type, before, after, reason
ACTIONS: dict[str, tuple[Setup, Run, Action, Role, str, str | None, str, str]] = {
    "review": (_in_review, _review, Action.PAYMENT_REVIEW, Role.OPERATOR, "payment",
               "requires_review", "rejected", "stolen card"),
    "refund": (_paid, _refund, Action.PAYMENT_REFUND, Role.OPERATOR, "refund", None, "pending",
               "damaged"),
    "capture": (_authorized, _capture, Action.PAYMENT_CAPTURE, Role.OPERATOR, "payment",
                "requires_capture", "requires_capture", "capture 60.00 USD claimed"),
    "cancel": (_authorized, _cancel, Action.PAYMENT_CANCEL, Role.OPERATOR, "payment",
               "requires_capture", "requires_capture", "out of stock"),
    "retry": (_dead_delivery, _retry, Action.WEBHOOK_RETRY, Role.OPERATOR, "event", "dead",
              "pending", ""),
    "settle": (_paid_yesterday, _settle, Action.SETTLEMENT_RUN, Role.ADMIN, "merchant", None,
               "settled", "stl_"),
    "create_merchant": (_merchant, _create_merchant, Action.MERCHANT_CREATE, Role.ADMIN,
                        "merchant", None, "active", "Beta"),
    "disable_merchant": (_merchant, _disable_merchant, Action.MERCHANT_DISABLE, Role.ADMIN,
                         "merchant", "active", "disabled", "chargebacks"),
    "create_operator": (_merchant, _create_operator, Action.OPERATOR_CREATE, Role.ADMIN,
                        "operator", None, "active", "viewer"),
    "disable_operator": (_an_operator, _disable_operator, Action.OPERATOR_DISABLE, Role.ADMIN,
                         "operator", "active", "disabled", "left the team"),
}
ADA = Actor("ada", Role.ADMIN)


def _state(g: Gateway) -> tuple[Any, ...]:
    return (dict(g.db.payments), dict(g.db.refunds), dict(g.db.merchants),
            dict(g.db.operators), list(g.db.settlements), dict(g.db.deliveries),
            list(g.db.postings), list(g.db.audit), g.db.commits)


@pytest.mark.parametrize("name", list(ACTIONS))
async def test_an_action_writes_one_row_naming_who_what_and_the_move(
    gateway: Gateway, merchant_id: str, name: str
) -> None:
    setup, run, action, needed, object_type, before, after, reason = ACTIONS[name]
    actor = ADA if needed is Role.ADMIN else OTTO
    target = await setup(gateway, merchant_id)
    gateway.trace_id = TRACE
    already = len(gateway.db.audit)

    await run(gateway, target, actor)

    [entry] = gateway.db.audit[already:]
    assert (entry.actor, entry.role, entry.action) == (actor.name, actor.role, action)
    assert (entry.object_type, entry.before, entry.after) == (object_type, before, after)
    assert entry.object_id.startswith(("pay_", "ref_", "mch_", "evt_", "alice", "bob"))
    assert reason in (entry.reason or "")
    assert (entry.trace_id, entry.created_at) == (TRACE, gateway.clock.now())
    assert (await gateway.services.list_audit(AuditQuery(limit=100))).items == (
        gateway.db.audit[::-1])


@pytest.mark.parametrize("name", list(ACTIONS))
async def test_a_role_without_the_right_is_forbidden_and_changes_nothing(
    gateway: Gateway, merchant_id: str, name: str
) -> None:
    setup, run, _, needed, *_ = ACTIONS[name]
    target = await setup(gateway, merchant_id)
    for actor in [VERA] if needed is Role.OPERATOR else [VERA, OTTO]:
        before = _state(gateway)
        with pytest.raises(Forbidden):
            await run(gateway, target, actor)
        assert _state(gateway) == before


@pytest.mark.parametrize("name", list(ACTIONS))
async def test_a_failure_at_commit_loses_the_change_and_its_row_together(
    gateway: Gateway, merchant_id: str, name: str
) -> None:
    setup, run, _, needed, *_ = ACTIONS[name]
    target = await setup(gateway, merchant_id)
    before = _state(gateway)
    gateway.db.fail_commit = True

    with pytest.raises(Unavailable):
        await run(gateway, target, ADA if needed is Role.ADMIN else OTTO)

    assert _state(gateway) == before


async def test_disabling_an_unknown_operator_is_not_found(gateway: Gateway) -> None:
    with pytest.raises(NotFound):
        await gateway.services.disable_operator(BOOTSTRAP_ACTOR, "nobody")


@pytest.mark.parametrize(("currency", "minor", "shown"), [
    ("USD", 100, "1.00 USD"), ("BHD", 600, "0.600 BHD"), ("JPY", 100, "100 JPY"),
    ("USD", 5, "0.05 USD"),
])
async def test_refund_and_capture_rows_give_the_amount_in_major_units(
    gateway: Gateway, merchant_id: str, currency: str, minor: int, shown: str
) -> None:
    """The row is read by people investigating money movements: `100 USD` for a refund
    of one dollar reads as a hundred dollars."""
    paid = await gateway.pay(merchant_id, amount=10_000, currency=currency)
    held = await gateway.authorize(merchant_id, amount=10_000, currency=currency)
    already = len(gateway.db.audit)

    refund = await gateway.create_refund(CreateRefundCommand(
        payment_no=paid.payment_no, merchant_id=None, amount=minor, reason=None, actor=OTTO))
    await gateway.capture_payment(CapturePaymentCommand(
        payment_no=held.payment_no, merchant_id=None, amount=minor, actor=OTTO))

    refunded, captured = gateway.db.audit[already:]
    assert refunded.reason == f"{shown} of {paid.payment_no}"
    assert captured.reason == f"capture {shown} claimed"
    assert refund.refund.amount.amount == minor  # the API's amounts stay minor units
