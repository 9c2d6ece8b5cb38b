"""Random sequences of payments, refunds, notifications, reviews and reconciliations.

Whatever the order, the money rules hold: a refund never exceeds its payment, a payment
that reached a terminal status never changes again, the ledger balances per currency,
and the merchant's balance is exactly captures minus refunds.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule

from application.ports.channel import Outcome, RefundResult
from application.views import payment_view
from domain.errors import DomainError
from domain.payment import CAPTURED, REFUNDABLE, UNRESOLVED, Payment, PaymentStatus
from domain.refund import RefundStatus
from tests.unit.fakes import Gateway
from tests.unit.fakes.channel import (
    DECLINED,
    INSUFFICIENT_FUNDS,
    PROCESSING_ERROR,
    SUCCEEDS,
    TIMES_OUT,
)
from tests.unit.fakes.external import REJECT_CARD, REVIEW_CARD

T = TypeVar("T")
S = PaymentStatus
CARDS = [
    SUCCEEDS,
    DECLINED,
    INSUFFICIENT_FUNDS,
    PROCESSING_ERROR,
    TIMES_OUT,
    REVIEW_CARD,
    REJECT_CARD,
]
REFUND_REPLIES: dict[str, RefundResult | Exception | None] = {
    "succeeded": None,
    "failed": RefundResult(Outcome.FAILED, failure_code="refund_declined"),
    "unknown": RefundResult(Outcome.UNKNOWN),
    "raises": TimeoutError("no answer"),
}
AMOUNTS = st.one_of(st.none(), st.integers(1, 3_000), st.integers(-3, 60_000))


def expected_refund_error(payment: Payment, amount: int | None) -> str | None:
    if amount is not None and amount <= 0:
        return "invalid_amount"
    if payment.status not in REFUNDABLE:
        return "invalid_status"
    requested = payment.refundable if amount is None else amount
    if requested == 0 or requested > payment.refundable:
        return "amount_exceeded"
    return None


class PaymentLifecycle(RuleBasedStateMachine):
    payments = Bundle("payments")
    refunds = Bundle("refunds")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.gateway = Gateway()
        self.merchant_id = self.run(self.gateway.onboard())
        self.terminal: dict[str, tuple[object, ...]] = {}

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.loop.close()

    def payment(self, payment_no: str) -> Payment:
        return self.gateway.db.payment(payment_no)

    # -- rules -----------------------------------------------------------------------
    @rule(
        target=payments,
        number=st.sampled_from(CARDS),
        amount=st.integers(1, 50_000),
        currency=st.sampled_from(["USD", "JPY", "KWD"]),
        channel_raises=st.booleans(),
    )
    def pay(self, number: str, amount: int, currency: str, channel_raises: bool) -> str:
        if channel_raises:
            self.gateway.channel.script_charges(ConnectionResetError("reset by peer"))
        payment = self.run(
            self.gateway.pay(self.merchant_id, number, amount=amount, currency=currency)
        )
        self.gateway.channel.charge_script.clear()
        self.gateway.clock.advance(seconds=1)
        return payment.payment_no

    @rule(
        target=refunds,
        payment_no=payments,
        amount=AMOUNTS,
        reply=st.sampled_from(sorted(REFUND_REPLIES)),
    )
    def refund(self, payment_no: str, amount: int | None, reply: str) -> object:
        expected = expected_refund_error(self.payment(payment_no), amount)
        scripted = REFUND_REPLIES[reply]
        if scripted is not None:
            self.gateway.channel.script_refunds(scripted)
        refused = None
        try:
            outcome = self.run(self.gateway.refund(payment_no, amount, self.merchant_id))
        except DomainError as error:
            refused = error.code
        self.gateway.channel.refund_script.clear()
        assert refused == expected
        return multiple() if refused else outcome.refund.refund_no

    @rule(payment_no=payments, succeeded=st.booleans())
    def charge_notification(self, payment_no: str, succeeded: bool) -> None:
        before = self.payment(payment_no).status
        kind = "charge.succeeded" if succeeded else "charge.failed"
        self.run(self.gateway.notify(kind, payment_no, failure_code="card_declined"))
        after = self.payment(payment_no).status
        if before in UNRESOLVED:
            assert after is (S.SUCCEEDED if succeeded else S.FAILED)
        else:
            assert after is before

    @rule(refund_no=refunds, succeeded=st.booleans())
    def refund_notification(self, refund_no: str, succeeded: bool) -> None:
        refund = self.gateway.db.refund(refund_no)
        kind = "refund.succeeded" if succeeded else "refund.failed"
        self.run(self.gateway.notify(kind, refund.payment_no, refund_no))
        after = self.gateway.db.refund(refund_no).status
        if refund.status is RefundStatus.PENDING:
            assert after is (RefundStatus.SUCCEEDED if succeeded else RefundStatus.FAILED)
        else:
            assert after is refund.status

    @rule(payment_no=payments, approve=st.booleans())
    def review(self, payment_no: str, approve: bool) -> None:
        under_review = self.payment(payment_no).status is S.REQUIRES_REVIEW
        refused = None
        try:
            self.run(self.gateway.review(payment_no, "approve" if approve else "reject"))
        except DomainError as error:
            refused = error.code
        assert refused == (None if under_review else "invalid_status")

    @rule()
    def reconcile(self) -> None:
        self.gateway.clock.advance(seconds=61)
        self.run(self.gateway.reconcile())
        db = self.gateway.db
        assert not [p for p in db.payments.values() if p.status in UNRESOLVED]
        assert not [r for r in db.refunds.values() if r.status is RefundStatus.PENDING]

    # -- invariants --------------------------------------------------------------------
    @invariant()
    def refunds_never_exceed_the_payment(self) -> None:
        reserved: dict[str, int] = defaultdict(int)
        refunded: dict[str, int] = defaultdict(int)
        for refund in self.gateway.db.refunds.values():
            if refund.status is not RefundStatus.FAILED:
                reserved[refund.payment_no] += refund.amount.amount
            if refund.status is RefundStatus.SUCCEEDED:
                refunded[refund.payment_no] += refund.amount.amount
        for payment in self.gateway.db.payments.values():
            assert 0 <= payment.refunded_amount <= payment.refund_reserved <= payment.amount.amount
            assert payment.refund_reserved == reserved[payment.payment_no]
            assert payment.refunded_amount == refunded[payment.payment_no]

    @invariant()
    def a_terminal_payment_never_changes(self) -> None:
        for payment_no, payment in self.gateway.db.payments.items():
            seen = (payment_view(payment), payment.refund_reserved, payment.version)
            if payment_no in self.terminal:
                assert seen == self.terminal[payment_no]
            elif payment.is_terminal:
                self.terminal[payment_no] = seen

    @invariant()
    def the_ledger_balances_per_currency(self) -> None:
        for currency, (debits, credits) in self.gateway.debits_and_credits().items():
            assert debits == credits, currency

    @invariant()
    def the_merchant_balance_is_captures_minus_refunds(self) -> None:
        db = self.gateway.db
        expected: dict[str, int] = defaultdict(int)
        for payment in db.payments.values():
            if payment.status in CAPTURED:
                expected[payment.currency] += payment.amount.amount
        for refund in db.refunds.values():
            if refund.status is RefundStatus.SUCCEEDED:
                expected[refund.currency] -= refund.amount.amount
        for currency in ("USD", "JPY", "KWD"):
            assert self.gateway.merchant_balance(self.merchant_id, currency) == expected[currency]

    @invariant()
    def nothing_is_charged_or_refunded_twice(self) -> None:
        channel = self.gateway.channel
        assert max(channel.charges.values(), default=0) <= 1
        assert max(channel.refunds.values(), default=0) <= 1


PaymentLifecycle.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestPaymentLifecycle = PaymentLifecycle.TestCase
