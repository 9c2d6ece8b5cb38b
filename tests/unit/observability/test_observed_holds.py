"""Captures, cancels and expiries: their spans, their duration series, their labels."""

from __future__ import annotations

import dataclasses

import pytest

from application.ports.channel import CaptureRequest, ChargeResult, Outcome, VoidRequest
from domain.authorization import CAPTURE_DECLINED, EXPIRED, CaptureMethod
from domain.errors import InvalidStatus
from domain.money import Money
from domain.payment import PaymentStatus
from observability.decorators import (
    metered_cancel_payment,
    metered_capture_payment,
    metered_create_payment,
    traced_cancel_payment,
    traced_capture_payment,
)
from observability.metrics import Metrics
from observability.outcomes import HOLD_STATUS_LABELS, hold_status
from observability.ports import traced_channel
from tests.unit.observability.builders import StubUseCase, payment, payment_command
from tests.unit.observability.span_capture import Spans

S = PaymentStatus
DURATION = "payment_gateway_payment_duration_seconds_count"


def ended(status: PaymentStatus, reason: str | None = None) -> object:
    return dataclasses.replace(
        payment(status), capture_method=CaptureMethod.MANUAL, cancellation_reason=reason)


def count(metrics: Metrics, operation: str, status: str) -> float | None:
    return metrics.registry.get_sample_value(DURATION, {"operation": operation, "status": status})


@pytest.mark.parametrize(
    ("result", "error", "label"),
    [
        (ended(S.SUCCEEDED), None, "success"),
        (ended(S.CANCELED, "out of stock"), None, "success"),
        (ended(S.CANCELED, EXPIRED), None, "expired"),
        (ended(S.CANCELED, CAPTURE_DECLINED), None, "declined"),
        (ended(S.REQUIRES_CAPTURE), None, "processing"),
        (None, InvalidStatus("captured already"), "failed"),
        (ended(S.FAILED), None, "failed"),
    ],
)
def test_a_capture_or_cancel_is_labelled_by_how_it_ended(
    result: object, error: Exception | None, label: str
) -> None:
    assert hold_status(result, error) == label
    assert label in HOLD_STATUS_LABELS


@pytest.mark.parametrize(
    ("wrap", "operation"),
    [(metered_capture_payment, "capture_payment"), (metered_cancel_payment, "cancel_payment")],
)
async def test_a_capture_or_cancel_is_timed_under_its_operation(
    metrics: Metrics, wrap: object, operation: str
) -> None:
    use_case = wrap(StubUseCase(ended(S.SUCCEEDED)), metrics)  # type: ignore[operator]
    await use_case("command")
    assert count(metrics, operation, "success") == 1
    assert count(metrics, "create_payment", "success") is None


async def test_an_expiry_is_counted_as_an_expired_cancel(metrics: Metrics) -> None:
    use_case = metered_cancel_payment(StubUseCase(ended(S.CANCELED, EXPIRED)), metrics)
    await use_case("command")
    assert (count(metrics, "cancel_payment", "expired"),
            count(metrics, "cancel_payment", "success")) == (1, None)


async def test_a_refused_capture_is_counted_failed_and_raised(metrics: Metrics) -> None:
    use_case = metered_capture_payment(StubUseCase(InvalidStatus("canceled")), metrics)
    with pytest.raises(InvalidStatus):
        await use_case("command")
    assert count(metrics, "capture_payment", "failed") == 1


async def test_an_authorized_payment_counts_as_authorized(metrics: Metrics) -> None:
    authorized = metered_create_payment(StubUseCase(ended(S.REQUIRES_CAPTURE)), metrics)
    await authorized(payment_command())
    labels = {"channel": "sandbox", "currency": "USD"}
    assert metrics.registry.get_sample_value(
        "payment_gateway_payment_total", {"status": "authorized", **labels}) == 1
    assert metrics.registry.get_sample_value(
        "payment_gateway_payment_total", {"status": "success", **labels}) == 0


@pytest.mark.parametrize(
    ("wrap", "name"),
    [(traced_capture_payment, "CapturePayment"), (traced_cancel_payment, "CancelPayment")],
)
async def test_captures_and_cancels_are_business_spans(
    spans: Spans, wrap: object, name: str
) -> None:
    await wrap(StubUseCase(ended(S.SUCCEEDED)), spans.tracer)("command")  # type: ignore[operator]
    attributes = dict(spans.named(name).attributes)
    assert (attributes["payment_no"], attributes["status"]) == ("pay_1", "succeeded")


class HoldingChannel:
    name = "sandbox"

    async def capture(self, request: CaptureRequest) -> ChargeResult:
        return ChargeResult(Outcome.SUCCEEDED, "cap_1")

    async def void(self, request: VoidRequest) -> ChargeResult:
        return ChargeResult(Outcome.FAILED, None, "channel_unavailable")


async def test_the_channels_captures_and_voids_are_spans(spans: Spans) -> None:
    channel = traced_channel(HoldingChannel(), spans.tracer)
    await channel.capture(CaptureRequest("pay_1", "mer_1", Money(600, "USD"), "auth_1"))
    await channel.void(VoidRequest("pay_1", "mer_1"))
    assert spans.named("ChannelCapture").attributes["amount"] == 600
    assert spans.named("ChannelVoid").attributes["failure_code"] == "channel_unavailable"
