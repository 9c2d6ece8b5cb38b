"""Outcome series start at zero next to the first one recorded.

A counter series that appears with the value 1 has no earlier sample, so `rate()` and
`increase()` miss that first increment, and a failure-rate panel on a healthy gateway shows
"no data" instead of 0 %. So when a payment first records a (channel, currency), every
payment status of it exists from then on; likewise every refund status of a currency.
"""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from domain.errors import AmountExceeded, DuplicateOrder, InvalidAmount, InvalidStatus
from domain.payment import PaymentStatus
from domain.refund import RefundStatus
from observability.metrics import Metrics
from observability.outcomes import (
    PAYMENT_STATUS_LABELS,
    REFUND_STATUS_LABELS,
    payment_status,
    refund_status,
)


def counter_samples(metrics: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
        if sample.name == name
    }


def test_the_first_payment_of_a_channel_and_currency_brings_every_status_at_zero() -> None:
    metrics = Metrics()
    metrics.record_payment("success", "sandbox", "USD", 0.01, 10.0)
    metrics.record_payment("success", "sandbox", "USD", 0.01, 10.0)

    samples = counter_samples(metrics, "payment_gateway_payment_total")

    expected = {
        (("channel", "sandbox"), ("currency", "USD"), ("status", status)): 0.0
        for status in PAYMENT_STATUS_LABELS
    }
    expected[(("channel", "sandbox"), ("currency", "USD"), ("status", "success"))] = 2.0
    assert samples == expected
    assert {"success", "failed", "duplicate", "risk_rejected"} <= set(PAYMENT_STATUS_LABELS)


def test_a_failure_after_the_zero_series_exist_counts_from_zero() -> None:
    metrics = Metrics()
    metrics.record_payment("success", "stripe", "EUR", 0.01, 5.0)
    metrics.record_payment("failed", "stripe", "EUR", 0.01, None)

    value = metrics.registry.get_sample_value
    labels = {"channel": "stripe", "currency": "EUR"}
    assert value("payment_gateway_payment_total", {**labels, "status": "failed"}) == 1
    assert value("payment_gateway_payment_total", {**labels, "status": "duplicate"}) == 0
    assert value("payment_gateway_payment_total", {**labels, "status": "success"}) == 1


def test_only_the_recorded_channel_and_currency_get_series() -> None:
    metrics = Metrics()
    metrics.record_payment("failed", "sandbox", "JPY", 0.01, None)

    samples = counter_samples(metrics, "payment_gateway_payment_total")

    assert {dict(labels)["currency"] for labels in samples} == {"JPY"}
    assert {dict(labels)["channel"] for labels in samples} == {"sandbox"}
    assert sum(samples.values()) == 1


def test_the_first_refund_of_a_currency_brings_every_refund_status_at_zero() -> None:
    metrics = Metrics()
    metrics.record_refund("amount_exceeded", "GBP", 0.01, None)

    samples = counter_samples(metrics, "payment_gateway_refund_total")

    expected = {(("currency", "GBP"), ("status", status)): 0.0 for status in REFUND_STATUS_LABELS}
    expected[(("currency", "GBP"), ("status", "amount_exceeded"))] = 1.0
    assert samples == expected
    assert {"success", "failed", "invalid_status", "invalid_amount", "amount_exceeded",
            "partial_success"} <= set(REFUND_STATUS_LABELS)


payment_shapes = st.builds(
    SimpleNamespace, status=st.one_of(st.sampled_from([s.value for s in PaymentStatus]),
                                      st.text(max_size=5), st.none()))
refund_shapes = st.builds(
    SimpleNamespace,
    refund=st.builds(SimpleNamespace, status=st.one_of(
        st.sampled_from([s.value for s in RefundStatus]), st.text(max_size=5))),
    payment=st.builds(SimpleNamespace, status=st.sampled_from(["refunded", "succeeded"]),
                      refunded_amount=st.integers(0, 10), amount=st.integers(1, 10)))
failures = st.one_of(st.none(), st.sampled_from([
    DuplicateOrder("again"), AmountExceeded("too much"), InvalidStatus("no"),
    InvalidAmount("zero"), RuntimeError("down")]))


@given(payment_shapes, failures)
def test_every_payment_status_label_is_one_that_starts_at_zero(
    payment: object, error: BaseException | None
) -> None:
    assert payment_status(payment, error) in PAYMENT_STATUS_LABELS


@given(refund_shapes, failures)
def test_every_refund_status_label_is_one_that_starts_at_zero(
    outcome: object, error: BaseException | None
) -> None:
    assert refund_status(outcome, error) in REFUND_STATUS_LABELS
