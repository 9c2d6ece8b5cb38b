"""Operators in the other pillars: the business spans of their actions carry the
operator's name and role, and each action is counted by role and action."""

from __future__ import annotations

from application.commands import (
    CancelPaymentCommand,
    CapturePaymentCommand,
    CreateRefundCommand,
    ReviewPaymentCommand,
    SettleCommand,
)
from domain.operator import Actor, Role
from entrypoints.composition import compose
from entrypoints.telemetry import Telemetry
from observability.metrics import Metrics
from tests.unit.fakes import Gateway
from tests.unit.fakes.external import REVIEW_CARD
from tests.unit.observability.span_capture import Spans

OTTO = Actor("otto", Role.OPERATOR)
ADA = Actor("ada", Role.ADMIN)


async def test_operator_spans_carry_the_name_and_each_action_is_counted(
    gateway: Gateway, merchant_id: str, metrics: Metrics, spans: Spans
) -> None:
    observed = compose(gateway.ports, Telemetry(metrics, spans.provider))
    in_review = (await gateway.pay(merchant_id, REVIEW_CARD)).payment_no
    paid = (await gateway.pay(merchant_id)).payment_no
    held = [(await gateway.authorize(merchant_id)).payment_no for _ in range(2)]
    day = gateway.clock.now().date()

    await observed.review_payment(ReviewPaymentCommand(
        payment_no=in_review, decision="reject", actor=OTTO))
    for _ in range(2):
        await observed.create_refund(CreateRefundCommand(
            payment_no=paid, merchant_id=None, amount=100, actor=OTTO))
    await observed.capture_payment(CapturePaymentCommand(
        payment_no=held[0], merchant_id=None, actor=OTTO))
    await observed.cancel_payment(CancelPaymentCommand(
        payment_no=held[1], merchant_id=None, actor=OTTO))
    gateway.clock.advance(days=1)
    await observed.process_settlement(SettleCommand(merchant_id=merchant_id, day=day, actor=ADA))

    for name, actor in (("ReviewPayment", OTTO), ("CreateRefund", OTTO),
                        ("CapturePayment", OTTO), ("CancelPayment", OTTO),
                        ("ProcessSettlement", ADA)):
        matching = [s for s in spans.finished() if s.name == name]
        assert matching, name
        for span in matching:
            attributes = span.attributes or {}
            assert attributes["paygate.operator"] == actor.name, name
            assert attributes["paygate.operator.role"] == str(actor.role), name

    def counted(role: str, action: str) -> float | None:
        return metrics.registry.get_sample_value(
            "payment_gateway_operator_actions_total", {"role": role, "action": action})

    metrics.flush()
    assert counted("operator", "payment.refund") == 2
    assert counted("operator", "payment.review") == 1
    assert counted("operator", "payment.capture") == 1
    assert counted("operator", "payment.cancel") == 1
    assert counted("admin", "settlement.run") == 1


async def test_a_merchants_own_refund_span_names_no_operator(
    gateway: Gateway, merchant_id: str, metrics: Metrics, spans: Spans
) -> None:
    observed = compose(gateway.ports, Telemetry(metrics, spans.provider))
    paid = (await gateway.pay(merchant_id)).payment_no

    await observed.create_refund(CreateRefundCommand(
        payment_no=paid, merchant_id=merchant_id, amount=100))

    assert "paygate.operator" not in (spans.named("CreateRefund").attributes or {})
    metrics.flush()
    assert metrics.registry.get_sample_value(
        "payment_gateway_operator_actions_total",
        {"role": "operator", "action": "payment.refund"}) is None
