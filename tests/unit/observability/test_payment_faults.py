"""payment_faults_total counts what the payment success SLO holds against the gateway: a
channel error, an unreachable channel, an unknown outcome; never an issuer's decline."""

from __future__ import annotations

import dataclasses

import pytest

from application.errors import Unavailable
from domain.payment import Payment, PaymentStatus
from observability.decorators import metered_create_payment
from observability.metrics import Metrics
from observability.payment_faults import FAULT_REASONS, ISSUER_DECLINES, fault_reason
from tests.unit.observability.builders import StubUseCase, payment, payment_command

FAULTS = "payment_gateway_payment_faults_total"


def failed(code: str | None) -> Payment:
    return dataclasses.replace(payment(PaymentStatus.FAILED), failure_code=code)


def faults(metrics: Metrics) -> dict[str, float | None]:
    return {reason: metrics.registry.get_sample_value(FAULTS, {"reason": reason})
            for reason in FAULT_REASONS}


@pytest.mark.parametrize("code", sorted(ISSUER_DECLINES))
def test_an_issuers_decline_is_not_a_fault(code: str) -> None:
    assert fault_reason(failed(code)) is None


@pytest.mark.parametrize(("result", "reason"), [
    (failed("processing_error"), "channel_error"),
    (failed("channel_error"), "channel_error"),
    (failed(None), "channel_error"),
    (failed("channel_unavailable"), "channel_unavailable"),
    (payment(PaymentStatus.PROCESSING), "unknown_outcome"),
    (payment(PaymentStatus.PENDING), "unknown_outcome"),
    (payment(PaymentStatus.SUCCEEDED), None),
    (payment(PaymentStatus.REJECTED), None),
    (payment(PaymentStatus.REQUIRES_REVIEW), None),
    (payment(PaymentStatus.REQUIRES_CAPTURE), None),
])
def test_a_failure_that_is_no_decline_or_an_unknown_outcome_is_a_fault(
    result: Payment, reason: str | None
) -> None:
    assert fault_reason(result) == reason


async def test_every_reason_is_exported_at_zero_before_the_first_fault() -> None:
    metrics = Metrics()
    create = metered_create_payment(StubUseCase(payment()), metrics)

    assert faults(metrics) == dict.fromkeys(FAULT_REASONS, 0.0)
    await create(payment_command())
    assert faults(metrics) == dict.fromkeys(FAULT_REASONS, 0.0)


async def test_the_metered_use_case_counts_faults_beside_the_failed_payments() -> None:
    metrics = Metrics()
    for outcome in (failed("card_declined"), failed("processing_error"),
                    failed("channel_unavailable"), payment(PaymentStatus.PROCESSING)):
        await metered_create_payment(StubUseCase(outcome), metrics)(payment_command())

    assert faults(metrics) == {
        "channel_error": 1.0, "channel_unavailable": 1.0, "unknown_outcome": 1.0}
    failed_payments = metrics.registry.get_sample_value("payment_gateway_payment_total", {
        "status": "failed", "channel": "sandbox", "currency": "USD"})
    assert failed_payments == 3.0  # the contract's count is unchanged: declines included


async def test_a_use_case_that_raised_is_no_fault_here_its_5xx_counts_instead() -> None:
    metrics = Metrics()
    with pytest.raises(Unavailable):
        await metered_create_payment(StubUseCase(Unavailable("db")), metrics)(payment_command())

    assert faults(metrics) == dict.fromkeys(FAULT_REASONS, 0.0)
