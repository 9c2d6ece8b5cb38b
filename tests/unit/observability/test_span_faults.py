"""A channel that could not be reached, or did not answer, is an error on the spans; a
card the issuer declined is an answer, not an error."""

from __future__ import annotations

from dataclasses import replace

import pytest
from opentelemetry.trace import StatusCode

from application.ports.channel import ChargeRequest, ChargeResult, Outcome, RefundResult
from domain.money import Money
from domain.payment import Payment, PaymentStatus
from observability.decorators import traced_create_payment
from observability.ports import traced_channel
from tests.unit.observability.builders import payment, payment_command
from tests.unit.observability.span_capture import spans_with_rate

REQUEST = ChargeRequest("pay_1", "mer_1", Money(1050, "USD"))


class Channel:
    def __init__(self, charge: ChargeResult, refund: RefundResult | None = None) -> None:
        self._charge, self._refund = charge, refund

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        return self._charge

    async def refund(self, request: object) -> RefundResult | None:
        return self._refund


@pytest.mark.parametrize(("result", "status", "error_type"), [
    (ChargeResult(Outcome.FAILED, None, "channel_unavailable", "breaker open"),
     StatusCode.ERROR, "channel_unavailable"),
    (ChargeResult(Outcome.UNKNOWN, failure_message="read timeout"), StatusCode.ERROR, "unknown"),
    (ChargeResult(Outcome.FAILED, None, "card_declined"), StatusCode.UNSET, None),
    (ChargeResult(Outcome.SUCCEEDED, "ch_1"), StatusCode.UNSET, None),
])
async def test_channel_payment_is_an_error_when_the_channel_gave_no_answer(
    result: ChargeResult, status: StatusCode, error_type: str | None
) -> None:
    spans = spans_with_rate(1.0)
    channel = traced_channel(Channel(result), spans.tracer)
    assert await channel.charge(REQUEST) == result
    span = spans.named("ChannelPayment")
    assert span.status.status_code is status
    assert span.attributes is not None
    assert span.attributes.get("error.type") == error_type


async def test_a_refund_without_an_answer_is_an_error_on_channel_refund() -> None:
    spans = spans_with_rate(1.0)
    unreachable = RefundResult(Outcome.FAILED, None, "channel_unavailable", "refused")
    channel = traced_channel(Channel(ChargeResult(Outcome.SUCCEEDED), unreachable), spans.tracer)
    await channel.refund(object())
    assert spans.named("ChannelRefund").status.status_code is StatusCode.ERROR


@pytest.mark.parametrize(("failure_code", "status"), [
    ("channel_unavailable", StatusCode.ERROR),
    ("card_declined", StatusCode.UNSET),
])
async def test_create_payment_is_an_error_when_its_channel_was_unavailable(
    failure_code: str, status: StatusCode
) -> None:
    spans = spans_with_rate(1.0)
    failed = replace(payment(PaymentStatus.FAILED), failure_code=failure_code)

    async def create(command: object) -> Payment:
        return failed

    assert await traced_create_payment(create, spans.tracer)(payment_command()) is failed
    span = spans.named("CreatePayment")
    assert span.status.status_code is status
    assert span.attributes is not None
    assert span.attributes["failure_code"] == failure_code
