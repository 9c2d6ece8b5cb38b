"""The real use cases, wrapped the way the composition root wraps them, driven with fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.commands import CreateRefundCommand, SettleCommand
from domain.errors import AmountExceeded, DuplicateOrder, InvalidStatus
from observability.decorators import (
    metered_create_payment,
    metered_create_refund,
    metered_process_settlement,
    traced_create_payment,
    traced_create_refund,
    traced_process_settlement,
)
from observability.metrics import Metrics
from observability.ports import traced_channel, traced_order, traced_risk
from tests.unit.fakes import Gateway
from tests.unit.fakes.channel import DECLINED
from tests.unit.fakes.external import REJECT_CARD, REVIEW_CARD
from tests.unit.fakes.gateway import card
from tests.unit.observability.span_capture import Spans


@pytest.fixture
def observed(gateway: Gateway, spans: Spans) -> Gateway:
    gateway.risk = traced_risk(gateway.risk, spans.tracer)
    gateway.orders = traced_order(gateway.orders, spans.tracer)
    gateway.channel = traced_channel(gateway.channel, spans.tracer)
    return gateway


def count(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


async def test_every_payment_outcome_is_counted(
    observed: Gateway, merchant_id: str, metrics: Metrics, spans: Spans
) -> None:
    create = metered_create_payment(traced_create_payment(observed.create_payment, spans.tracer),
                                    metrics)
    for number in ("4242424242424242", DECLINED, REVIEW_CARD, REJECT_CARD):
        await create(observed.payment_command(merchant_id, card=card(number)))
    with pytest.raises(DuplicateOrder):
        await create(observed.payment_command(merchant_id, order_no="ORDER-0001"))
    by_status = {
        status: count(metrics, "payment_gateway_payment_total",
                      status=status, channel="sandbox", currency="USD")
        for status in ("success", "failed", "review", "risk_rejected", "duplicate")
    }
    assert by_status == dict.fromkeys(by_status, 1.0)
    assert count(metrics, "payment_gateway_payment_amount_count",
                 currency="USD", channel="sandbox") == 4


async def test_a_payment_trace_has_the_port_spans_as_children(
    observed: Gateway, merchant_id: str, spans: Spans
) -> None:
    create = traced_create_payment(observed.create_payment, spans.tracer)
    payment = await create(observed.payment_command(merchant_id))
    root = spans.named("CreatePayment")
    children = {span.name: span for span in spans.finished() if span.parent is not None}
    assert set(children) == {"RiskCheck", "CreateOrder", "ChannelPayment"}
    assert {span.parent.span_id for span in children.values()} == {root.context.span_id}
    assert children["ChannelPayment"].attributes["payment_no"] == payment.payment_no
    assert children["RiskCheck"].attributes["risk.decision"] == "approve"


async def test_refunds_partial_too_large_full_and_after_full(
    observed: Gateway, merchant_id: str, metrics: Metrics, spans: Spans
) -> None:
    payment = await observed.pay(merchant_id)  # 100.00 USD
    refund = metered_create_refund(traced_create_refund(observed.create_refund, spans.tracer),
                                   metrics)
    for amount, error in ((2_500, None), (9_000, AmountExceeded), (None, None),
                          (1, InvalidStatus)):
        command = CreateRefundCommand(payment_no=payment.payment_no, merchant_id=merchant_id,
                                      amount=amount)
        if error is None:
            await refund(command)
        else:
            with pytest.raises(error):
                await refund(command)
    statuses = ("partial_success", "amount_exceeded", "success", "invalid_status")
    assert [
        # a refusal is labelled with the currency of the payment it read, not "unknown"
        count(metrics, "payment_gateway_refund_total", status=status, currency="USD")
        for status in statuses
    ] == [1, 1, 1, 1]
    assert count(metrics, "payment_gateway_refund_amount_sum", currency="USD") == 100.0
    assert [span.name for span in spans.finished()].count("ChannelRefund") == 2


async def test_settlement_is_timed_and_traced(
    observed: Gateway, merchant_id: str, metrics: Metrics, spans: Spans
) -> None:
    await observed.pay(merchant_id)
    observed.clock.advance(days=1)
    settle = metered_process_settlement(
        traced_process_settlement(observed.settle, spans.tracer), metrics)
    day = observed.clock.now().date() - timedelta(days=1)
    settlements = await settle(SettleCommand(merchant_id=merchant_id, day=day))
    assert count(metrics, "payment_gateway_payment_duration_seconds_count",
                 operation="process_settlement", status="success") == 1
    assert spans.named("ProcessSettlement").attributes["settlement.count"] == len(settlements)


async def test_a_routed_payment_shows_each_attempt_as_a_child_span_and_counts_its_failover(
    gateway: Gateway, merchant_id: str, spans: Spans, metrics: Metrics
) -> None:
    from application.ports.channel import ChargeResult, Outcome
    from domain.routing import RoutingRule
    from entrypoints.composition import compose
    from entrypoints.telemetry import Telemetry

    gateway.add_channel("backup")
    gateway.channel.script_charges(
        ChargeResult(Outcome.FAILED, None, "channel_unavailable", "refused"))
    await gateway.services.set_routing(merchant_id, [RoutingRule(channels=("sandbox", "backup"))])
    services = compose(gateway.ports, Telemetry(metrics, spans.provider))

    payment = await services.create_payment(gateway.payment_command(merchant_id, channel=None))

    root = spans.named("CreatePayment")
    attempts = [s for s in spans.finished() if s.name == "ChannelPayment"]
    assert [s.attributes["channel.name"] for s in attempts] == ["sandbox", "backup"]
    assert {s.parent.span_id for s in attempts} == {root.context.span_id}
    assert attempts[1].attributes["attempt_key"] == f"{payment.payment_no}.2"
    assert "attempt_key" not in attempts[0].attributes
    assert count(metrics, "payment_gateway_failover_total", from_channel="sandbox",
                 to_channel="backup", reason="not_sent") == 1.0
