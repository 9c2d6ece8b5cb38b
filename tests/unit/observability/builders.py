"""Domain objects and use-case stand-ins for the observability tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from application.commands import CreatePaymentCommand, CreateRefundCommand
from application.refunding import RefundOutcome
from domain.card import CardDetails
from domain.money import Money
from domain.payment import Payment, PaymentStatus
from domain.refund import Refund, RefundStatus
from domain.risk import RiskDecision, Verdict

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CARD_NUMBER = "4242424242424242"
CVC = "987"
EMAIL = "buyer@example.com"


def payment_command(
    amount: object = 1050, currency: str = "USD", channel: str = "sandbox"
) -> CreatePaymentCommand:
    return CreatePaymentCommand(
        merchant_id="mer_1", order_no="ORDER-1", amount=amount, currency=currency,
        channel=channel, card=CardDetails(CARD_NUMBER, 12, 2030, CVC), email=EMAIL,
    )


def refund_command(amount: int | None = None) -> CreateRefundCommand:
    return CreateRefundCommand(payment_no="pay_1", merchant_id="mer_1", amount=amount)


def payment(
    status: PaymentStatus = PaymentStatus.SUCCEEDED, amount: int = 1050, currency: str = "USD",
    channel: str = "sandbox", refunded: int = 0,
) -> Payment:
    return Payment(
        payment_no="pay_1", merchant_id="mer_1", order_no="ORDER-1",
        amount=Money(amount, currency), channel=channel, created_at=NOW, updated_at=NOW,
        status=status, risk=RiskDecision(Verdict.APPROVE, 12), refunded_amount=refunded,
    )


def refund_outcome(
    refund_status: RefundStatus, amount: int, payment_amount: int = 1050,
    payment_status: PaymentStatus = PaymentStatus.PARTIALLY_REFUNDED, currency: str = "USD",
) -> RefundOutcome:
    refunded = amount if refund_status is RefundStatus.SUCCEEDED else 0
    refund = Refund(
        refund_no="ref_1", payment_no="pay_1", merchant_id="mer_1",
        amount=Money(amount, currency), created_at=NOW, updated_at=NOW, status=refund_status,
    )
    return RefundOutcome(refund, payment(payment_status, payment_amount, currency,
                                         refunded=refunded))


@dataclass
class StubUseCase:
    """Returns `outcome`, or raises it when it is an exception; remembers its commands."""

    outcome: object
    calls: list[object] = field(default_factory=list)
    label: str = "stub"

    async def __call__(self, command: object) -> object:
        self.calls.append(command)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome
