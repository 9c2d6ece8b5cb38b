"""Payments in every status, reached through the aggregate's own methods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.authorization import CaptureMethod
from domain.card import CardSummary
from domain.money import Money
from domain.payment import Payment, PaymentStatus
from domain.risk import RiskDecision, Verdict

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)
HELD_UNTIL = T0 + timedelta(days=7)
AMOUNT = 10_000
S = PaymentStatus
MANUAL = CaptureMethod.MANUAL
AUTOMATIC = CaptureMethod.AUTOMATIC


def new_payment(
    amount: int = AMOUNT,
    currency: str = "USD",
    payment_no: str = "pay_1",
    method: CaptureMethod = AUTOMATIC,
) -> Payment:
    return Payment(
        payment_no=payment_no,
        merchant_id="mch_1",
        order_no="ORDER-1",
        amount=Money(amount, currency),
        channel="sandbox",
        created_at=T0,
        updated_at=T0,
        card=CardSummary("visa", "4242"),
        capture_method=method,
    )


def authorized(amount: int = AMOUNT, capture_before: datetime = HELD_UNTIL) -> Payment:
    """A manual payment whose amount is held on the card until `capture_before`."""
    payment = new_payment(amount, method=MANUAL)
    payment.start_processing(T0)
    payment.authorize(T0, capture_before, "ch_1")
    return payment


def captured(amount: int = AMOUNT, capture: int | None = None) -> Payment:
    """A manual payment captured (all of it, or `capture`) at T0."""
    payment = authorized(amount)
    payment.begin_capture(capture, T0)
    payment.capture(T0)
    return payment


def refunded_by(payment: Payment, amount: int) -> Payment:
    refund = payment.reserve_refund(f"ref_{amount}", amount, T0)
    payment.complete_refund(refund, T0)
    return payment


def payment_in(status: PaymentStatus, amount: int = AMOUNT) -> Payment:
    """A payment that reached `status` by the moves the contract allows: a manual one for
    requires_capture and canceled (voided), an automatic one for the others."""
    if status is PaymentStatus.REQUIRES_CAPTURE:
        return authorized(amount)
    if status is PaymentStatus.CANCELED:
        payment = authorized(amount)
        payment.begin_void(T0)
        payment.void(T0)
        return payment
    payment = new_payment(amount)
    if status is PaymentStatus.REQUIRES_REVIEW:
        payment.apply_risk(RiskDecision(Verdict.REVIEW, 60), T0)
    elif status is PaymentStatus.REJECTED:
        payment.apply_risk(RiskDecision(Verdict.REJECT, 95), T0)
    elif status is not PaymentStatus.PENDING:
        payment.start_processing(T0)
    if status is PaymentStatus.FAILED:
        payment.fail(T0, "card_declined")
    elif status in (S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.REFUNDED):
        payment.succeed(T0, "ch_1")
    if status is PaymentStatus.PARTIALLY_REFUNDED:
        refunded_by(payment, amount // 4)
    elif status is PaymentStatus.REFUNDED:
        refunded_by(payment, amount)
    assert payment.status is status
    return payment
