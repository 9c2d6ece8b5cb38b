"""The metering decorators count every outcome of a use case with the contract's labels."""

from __future__ import annotations

import pytest

from application.errors import Unavailable
from domain.errors import (
    AmountExceeded,
    DuplicateOrder,
    InvalidAmount,
    InvalidCard,
    InvalidStatus,
)
from domain.payment import PaymentStatus
from domain.refund import RefundStatus
from observability.decorators import (
    MeteredUseCase,
    metered_create_payment,
    metered_create_refund,
    metered_process_settlement,
)
from observability.metrics import Metrics
from tests.unit.observability.builders import (
    StubUseCase,
    payment,
    payment_command,
    refund_command,
    refund_outcome,
)

PAYMENTS = "payment_gateway_payment_total"
REFUNDS = "payment_gateway_refund_total"


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


class TestMeteredCreatePayment:
    async def test_a_succeeded_payment_counts_as_success_with_its_amount_in_major_units(
        self, metrics: Metrics
    ) -> None:
        use_case = metered_create_payment(StubUseCase(payment(amount=1050)), metrics)
        await use_case(payment_command())
        assert value(metrics, PAYMENTS, status="success", channel="sandbox", currency="USD") == 1
        assert value(metrics, "payment_gateway_payment_amount_sum",
                     currency="USD", channel="sandbox") == 10.5
        assert value(metrics, "payment_gateway_payment_duration_seconds_count",
                     operation="create_payment", status="success") == 1

    @pytest.mark.parametrize(("status", "label"), [
        (PaymentStatus.FAILED, "failed"),
        (PaymentStatus.REJECTED, "risk_rejected"),
        (PaymentStatus.REQUIRES_REVIEW, "review"),
        (PaymentStatus.PROCESSING, "processing"),
    ])
    async def test_each_payment_status_has_its_label(
        self, metrics: Metrics, status: PaymentStatus, label: str
    ) -> None:
        await metered_create_payment(StubUseCase(payment(status)), metrics)(payment_command())
        assert value(metrics, PAYMENTS, status=label, channel="sandbox", currency="USD") == 1
        assert value(metrics, PAYMENTS, status="success", channel="sandbox", currency="USD") == 0

    def test_a_request_refused_before_the_call_counts_as_failed_with_its_labels(
        self, metrics: Metrics
    ) -> None:
        use_case = metered_create_payment(StubUseCase(payment()), metrics)
        use_case.refused(payment_command(currency="EUR"), InvalidCard("fails the Luhn check"))
        assert value(metrics, PAYMENTS, status="failed", channel="sandbox", currency="EUR") == 1
        assert value(metrics, "payment_gateway_payment_amount_count",
                     currency="EUR", channel="sandbox") in (None, 0)

    def test_a_refusal_that_cannot_be_recorded_is_logged_not_raised(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        def broken(*args: object) -> None:
            raise RuntimeError("registry gone")

        MeteredUseCase(StubUseCase(payment()), broken).refused(object(), ValueError())
        assert "recording metrics failed" in caplog.text

    async def test_a_duplicate_order_is_counted_then_raised_again(self, metrics: Metrics) -> None:
        use_case = metered_create_payment(StubUseCase(DuplicateOrder("used")), metrics)
        with pytest.raises(DuplicateOrder):
            await use_case(payment_command(channel="stripe", currency="EUR"))
        assert value(metrics, PAYMENTS, status="duplicate", channel="stripe", currency="EUR") == 1
        assert value(metrics, "payment_gateway_payment_duration_seconds_count",
                     operation="create_payment", status="duplicate") == 1
        assert value(metrics, "payment_gateway_payment_amount_count",
                     currency="EUR", channel="stripe") is None

    async def test_an_unavailable_dependency_counts_as_failed(self, metrics: Metrics) -> None:
        with pytest.raises(Unavailable):
            await metered_create_payment(StubUseCase(Unavailable("db down")), metrics)(
                payment_command())
        assert value(metrics, PAYMENTS, status="failed", channel="sandbox", currency="USD") == 1

    async def test_made_up_channels_and_currencies_collapse_into_one_label(
        self, metrics: Metrics
    ) -> None:
        use_case = metered_create_payment(StubUseCase(InvalidAmount("no")), metrics)
        for channel, currency in (("x" * 40, "USD"), ("sandbox", "ZZZ"), ("evil", "QQQ")):
            with pytest.raises(InvalidAmount):
                await use_case(payment_command(channel=channel, currency=currency))
        assert value(metrics, PAYMENTS, status="failed", channel="unknown", currency="USD") == 1
        assert value(metrics, PAYMENTS, status="failed", channel="sandbox", currency="unknown") == 1
        assert value(metrics, PAYMENTS, status="failed", channel="unknown", currency="unknown") == 1

    async def test_channels_the_container_configures_are_kept(self, metrics: Metrics) -> None:
        use_case = metered_create_payment(
            StubUseCase(payment(channel="acquirer")), metrics, channels={"acquirer"})
        await use_case(payment_command(channel="acquirer"))
        assert value(metrics, PAYMENTS, status="success", channel="acquirer", currency="USD") == 1

    @pytest.mark.parametrize(("currency", "minor", "major"), [
        ("JPY", 5000, 5000.0), ("KWD", 12345, 12.345), ("USD", 99, 0.99),
    ])
    async def test_amounts_use_the_currency_exponent(
        self, metrics: Metrics, currency: str, minor: int, major: float
    ) -> None:
        use_case = metered_create_payment(StubUseCase(payment(amount=minor, currency=currency)),
                                          metrics)
        await use_case(payment_command(amount=minor, currency=currency))
        assert value(metrics, "payment_gateway_payment_amount_sum",
                     currency=currency, channel="sandbox") == pytest.approx(major)


class TestMeteredCreateRefund:
    @pytest.mark.parametrize(("outcome", "label"), [
        (refund_outcome(RefundStatus.SUCCEEDED, 1050, 1050, PaymentStatus.REFUNDED), "success"),
        (refund_outcome(RefundStatus.SUCCEEDED, 250, 1050), "partial_success"),
        (refund_outcome(RefundStatus.FAILED, 250, 1050, PaymentStatus.SUCCEEDED), "failed"),
        (refund_outcome(RefundStatus.PENDING, 250, 1050, PaymentStatus.SUCCEEDED), "pending"),
    ])
    async def test_each_refund_outcome_has_its_label(
        self, metrics: Metrics, outcome: object, label: str
    ) -> None:
        await metered_create_refund(StubUseCase(outcome), metrics)(refund_command())
        assert value(metrics, REFUNDS, status=label, currency="USD") == 1
        assert value(metrics, "payment_gateway_payment_duration_seconds_count",
                     operation="create_refund", status=label) == 1

    async def test_the_refunded_amount_is_observed_in_major_units(self, metrics: Metrics) -> None:
        outcome = refund_outcome(RefundStatus.SUCCEEDED, 250, 1050)
        await metered_create_refund(StubUseCase(outcome), metrics)(refund_command(250))
        assert value(metrics, "payment_gateway_refund_amount_sum", currency="USD") == 2.5

    @pytest.mark.parametrize(("error", "label"), [
        (InvalidStatus("not captured"), "invalid_status"),
        (InvalidAmount("zero"), "invalid_amount"),
        (AmountExceeded("too much"), "amount_exceeded"),
        (Unavailable("channel down"), "failed"),
    ])
    async def test_refused_refunds_are_counted_by_their_code(
        self, metrics: Metrics, error: Exception, label: str
    ) -> None:
        with pytest.raises(type(error)):
            await metered_create_refund(StubUseCase(error), metrics)(refund_command(99))
        assert value(metrics, REFUNDS, status=label, currency="unknown") == 1
        assert value(metrics, "payment_gateway_refund_amount_count", currency="unknown") is None

    @pytest.mark.parametrize("error", [
        InvalidStatus("not captured", status="failed", currency="EUR"),
        InvalidAmount("zero", currency="EUR"),
        AmountExceeded("too much", remaining=0, currency="EUR"),
    ])
    async def test_a_refusal_of_a_payment_that_was_read_has_its_currency(
        self, metrics: Metrics, error: Exception
    ) -> None:
        with pytest.raises(type(error)):
            await metered_create_refund(StubUseCase(error), metrics)(refund_command(99))
        assert value(metrics, REFUNDS, status=error.code, currency="EUR") == 1  # type: ignore[attr-defined]


class TestMeteredProcessSettlement:
    async def test_duration_is_recorded_for_success_and_failure(self, metrics: Metrics) -> None:
        await metered_process_settlement(StubUseCase([]), metrics)(object())
        with pytest.raises(Unavailable):
            await metered_process_settlement(StubUseCase(Unavailable("x")), metrics)(object())
        for status in ("success", "failed"):
            assert value(metrics, "payment_gateway_payment_duration_seconds_count",
                         operation="process_settlement", status=status) == 1


class TestMeteredUseCase:
    async def test_a_failing_recorder_never_changes_the_use_case_outcome(self) -> None:
        def broken(*_: object) -> None:
            raise ValueError("metrics backend broken")

        assert await MeteredUseCase(StubUseCase("paid"), broken)("cmd") == "paid"
        with pytest.raises(DuplicateOrder):
            await MeteredUseCase(StubUseCase(DuplicateOrder("used")), broken)("cmd")

    async def test_it_passes_the_command_through_and_proxies_attributes(self) -> None:
        inner = StubUseCase("paid", label="create-payment")
        wrapped = MeteredUseCase(inner, lambda *_: None)
        await wrapped(command="cmd")
        assert (inner.calls, wrapped.label) == (["cmd"], "create-payment")

    def test_copies_of_wrappers_do_not_recurse(self) -> None:
        import copy

        wrapped = MeteredUseCase(StubUseCase("paid", label="x"), lambda *_: None)
        assert copy.copy(wrapped).label == "x"
