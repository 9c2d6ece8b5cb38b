"""Business spans: names, allowlisted attributes, errors, and what never reaches a span."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from opentelemetry.trace import StatusCode

from application.ports.channel import ChargeResult, Outcome
from domain.errors import DuplicateOrder
from domain.refund import RefundStatus
from domain.risk import RiskDecision, Verdict
from observability.decorators import (
    TracedPort,
    traced_create_payment,
    traced_create_refund,
    traced_process_settlement,
)
from observability.ports import traced_channel, traced_order, traced_risk
from tests.unit.observability.builders import (
    CARD_NUMBER,
    CVC,
    EMAIL,
    StubUseCase,
    payment,
    payment_command,
    refund_command,
    refund_outcome,
)
from tests.unit.observability.span_capture import Spans, spans_with_rate


def attribute_text(spans: Spans) -> str:
    return " ".join(
        f"{key}={value}" for span in spans.finished() for key, value in span.attributes.items()
    )


class TestTracedUseCases:
    async def test_create_payment_span_carries_the_business_attributes(self, spans: Spans) -> None:
        await traced_create_payment(StubUseCase(payment()), spans.tracer)(payment_command())
        assert dict(spans.named("CreatePayment").attributes) == {
            "merchant_id": "mer_1", "order_no": "ORDER-1", "payment_no": "pay_1",
            "channel": "sandbox", "amount": 1050, "currency": "USD", "status": "succeeded",
            "risk.decision": "approve", "risk.score": 12,
        }

    async def test_card_number_cvc_and_email_never_reach_a_span(self, spans: Spans) -> None:
        await traced_create_payment(StubUseCase(payment()), spans.tracer)(payment_command())
        text = attribute_text(spans)
        assert "mer_1" in text
        assert (CARD_NUMBER in text, CVC in text, EMAIL in text) == (False, False, False)

    async def test_an_exception_is_recorded_with_error_status_and_raised_again(
        self, spans: Spans
    ) -> None:
        use_case = traced_create_payment(StubUseCase(DuplicateOrder("used")), spans.tracer)
        with pytest.raises(DuplicateOrder):
            await use_case(payment_command())
        span = spans.named("CreatePayment")
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes["error.type"] == "duplicate_order"
        assert [event.name for event in span.events] == ["exception"]

    async def test_a_cancelled_call_keeps_its_attributes_and_is_not_an_error(
        self, spans: Spans
    ) -> None:
        use_case = traced_create_payment(StubUseCase(asyncio.CancelledError()), spans.tracer)
        with pytest.raises(asyncio.CancelledError):
            await use_case(payment_command())
        span = spans.named("CreatePayment")
        assert (span.attributes["order_no"], span.status.status_code) == (
            "ORDER-1", StatusCode.UNSET)
        assert list(span.events) == []

    async def test_create_refund_span_has_the_refund_and_the_payment_status(
        self, spans: Spans
    ) -> None:
        outcome = refund_outcome(RefundStatus.SUCCEEDED, 250)
        await traced_create_refund(StubUseCase(outcome), spans.tracer)(refund_command(250))
        attributes = spans.named("CreateRefund").attributes
        assert (attributes["refund_no"], attributes["amount"], attributes["status"],
                attributes["payment.status"]) == ("ref_1", 250, "succeeded", "partially_refunded")

    async def test_process_settlement_span_counts_the_settlements(self, spans: Spans) -> None:
        use_case = traced_process_settlement(StubUseCase(["usd", "eur"]), spans.tracer)
        await use_case(object())
        assert spans.named("ProcessSettlement").attributes["settlement.count"] == 2

    async def test_unsampled_calls_still_return_and_export_nothing(self) -> None:
        spans = spans_with_rate(0.0)
        result = await traced_create_payment(StubUseCase("paid"), spans.tracer)(payment_command())
        assert (result, spans.finished()) == ("paid", [])


@dataclass
class StubChannel:
    name: str = "sandbox"

    async def charge(self, request: object) -> ChargeResult:
        return ChargeResult(Outcome.FAILED, failure_code="card_declined")

    async def refund(self, request: object) -> ChargeResult:
        raise TimeoutError("no answer")

    def parse_notification(self, body: bytes) -> str:
        return body.decode()


class StubRisk:
    async def assess(self, request: object) -> RiskDecision:
        return RiskDecision(Verdict.REVIEW, 61)


class StubOrders:
    shares_database = True

    async def create_order(self, request: object) -> str:
        return "ord_1"

    async def update_status(self, merchant_id: str, order_no: str, status: str) -> None:
        return None


class TestTracedPorts:
    async def test_risk_check_records_the_decision_and_score(self, spans: Spans) -> None:
        risk = traced_risk(StubRisk(), spans.tracer)
        assert await risk.assess(payment_command()) == RiskDecision(Verdict.REVIEW, 61)
        attributes = spans.named("RiskCheck").attributes
        assert (attributes["risk.decision"], attributes["risk.score"]) == ("review", 61)
        assert attributes["merchant_id"] == "mer_1"

    async def test_only_listed_methods_get_a_span(self, spans: Spans) -> None:
        orders = traced_order(StubOrders(), spans.tracer)
        await orders.create_order(payment_command())
        await orders.update_status("mer_1", "ORDER-1", "paid")
        assert [span.name for span in spans.finished()] == ["CreateOrder"]

    async def test_a_channel_proxy_keeps_its_name_and_synchronous_methods(
        self, spans: Spans
    ) -> None:
        channel = traced_channel(StubChannel(), spans.tracer)
        assert (channel.name, channel.parse_notification(b"evt")) == ("sandbox", "evt")
        assert (await channel.charge(payment_command())).failure_code == "card_declined"
        assert spans.named("ChannelPayment").attributes["failure_code"] == "card_declined"

    async def test_a_failing_port_call_marks_its_span_as_error(self, spans: Spans) -> None:
        channel = traced_channel(StubChannel(), spans.tracer)
        with pytest.raises(TimeoutError):
            await channel.refund(refund_command())
        span = spans.named("ChannelRefund")
        assert (span.status.status_code, span.attributes["error.type"]) == (
            StatusCode.ERROR, "TimeoutError")

    async def test_an_order_proxy_keeps_what_each_payment_reads_of_the_port(
        self, spans: Spans
    ) -> None:
        """A fixed declaration of the port, read on every payment: the proxy keeps it
        rather than falling back to `__getattr__` (a failed lookup first) each time."""
        orders = traced_order(StubOrders(), spans.tracer)
        assert orders.shares_database is True
        assert {"shares_database", "update_status"} <= set(vars(orders))
        await orders.update_status("mer_1", "ORDER-1", "paid")  # still the port's, untraced
        assert spans.finished() == []

    async def test_generic_port_wrapping_names_spans_as_asked(self, spans: Spans) -> None:
        port = TracedPort(StubOrders(), {"update_status": "OrderStatus"}, spans.tracer)
        await port.update_status("mer_1", "ORDER-1", "paid")
        assert [span.name for span in spans.finished()] == ["OrderStatus"]
