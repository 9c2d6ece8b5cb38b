"""Random sequences of payments, authorizations, captures, cancels, expiries, refunds,
notifications, reviews and reconciliations.

Whatever the order, the money rules hold: refunded <= captured <= authorized for every
payment, a payment that reached a terminal status never changes again, the ledger
balances per currency and posts exactly what was captured, the merchant's balance is
exactly captures minus refunds, and nothing is charged, captured, voided or refunded twice.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule

from application.errors import Unavailable
from application.ports.channel import NOT_SENT, ChargeResult, Outcome, RefundResult
from application.views import payment_view
from domain.authorization import CaptureMethod
from domain.errors import DomainError
from domain.ledger import ACQUIRER_RECEIVABLE, Side
from domain.payment import REFUNDABLE, UNRESOLVED, Payment, PaymentStatus
from domain.refund import RefundStatus
from tests.unit.fakes import Gateway
from tests.unit.fakes.channel import (
    CAPTURE_DECLINED,
    CAPTURE_TIMES_OUT,
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
    CAPTURE_DECLINED,
    CAPTURE_TIMES_OUT,
]
REFUND_REPLIES: dict[str, RefundResult | Exception | None] = {
    "succeeded": None,
    "failed": RefundResult(Outcome.FAILED, failure_code="refund_declined"),
    "unknown": RefundResult(Outcome.UNKNOWN),
    "raises": TimeoutError("no answer"),
}
HOLD_CARDS = [SUCCEEDS, SUCCEEDS, CAPTURE_DECLINED, CAPTURE_TIMES_OUT, REVIEW_CARD, TIMES_OUT]
MOVE_REPLIES: dict[str, ChargeResult | Exception | None] = {
    "card": None,  # whatever the card says: most go through
    "succeeded": ChargeResult(Outcome.SUCCEEDED, "mv_ok"),
    "declined": ChargeResult(Outcome.FAILED, None, "card_declined"),
    "unknown": ChargeResult(Outcome.UNKNOWN),
    "raises": TimeoutError("no answer"),
    "not_sent": ChargeResult(Outcome.FAILED, None, NOT_SENT),
}
MOVES_MOSTLY_ANSWERED = st.sampled_from(
    ["card", "card", "succeeded", "succeeded", *sorted(MOVE_REPLIES)])
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


def expected_capture_error(payment: Payment, amount: int | None, now: object) -> str | None:
    held = payment.status is S.REQUIRES_CAPTURE
    if payment.cancellation_reason == "expired" or (held and payment.is_expired(now)):  # type: ignore[arg-type]
        return "authorization_expired"
    if not held or payment.pending_move is not None:
        return "invalid_status"
    if amount is not None and amount <= 0:
        return "invalid_amount"
    if amount is not None and amount > payment.amount.amount:
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
        manual=st.booleans(),
    )
    def pay(
        self, number: str, amount: int, currency: str, channel_raises: bool, manual: bool
    ) -> str:
        if channel_raises:
            self.gateway.channel.script_charges(ConnectionResetError("reset by peer"))
        method = CaptureMethod.MANUAL if manual else CaptureMethod.AUTOMATIC
        payment = self.run(self.gateway.pay(
            self.merchant_id, number, amount=amount, currency=currency, capture_method=method))
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
        except (DomainError, Unavailable) as error:
            refused = error.code
        self.gateway.channel.refund_script.clear()
        assert refused == expected
        return multiple() if refused else outcome.refund.refund_no

    @rule(
        target=payments,
        number=st.sampled_from(HOLD_CARDS),
        amount=st.integers(501, 50_000),
        currency=st.sampled_from(["USD", "JPY", "KWD"]),
    )
    def authorize(self, number: str, amount: int, currency: str) -> str:
        payment = self.run(
            self.gateway.authorize(self.merchant_id, number, amount=amount, currency=currency))
        self.gateway.clock.advance(seconds=1)
        return payment.payment_no

    @rule(
        payment_no=payments,
        amount=st.one_of(st.none(), st.integers(1, 500), st.integers(-2, 60_000)),
        reply=MOVES_MOSTLY_ANSWERED,
    )
    def capture(self, payment_no: str, amount: int | None, reply: str) -> None:
        before = self.payment(payment_no)
        expected = expected_capture_error(before, amount, self.gateway.clock.now())
        scripted = MOVE_REPLIES[reply]
        if scripted is not None:
            self.gateway.channel.script_moves(scripted)
        refused = None
        try:
            self.run(self.gateway.capture(payment_no, amount, self.merchant_id))
        except (DomainError, Unavailable) as error:
            refused = error.code
        self.gateway.channel.move_script.clear()
        after = self.payment(payment_no)
        if expected is not None:
            assert refused == expected
            assert after == before
        elif reply == "not_sent":
            assert refused == "unavailable"
            assert (after.status, after.pending_move) == (S.REQUIRES_CAPTURE, None)
        else:
            assert refused is None
            assert after.amount_captured in (0, before.amount.amount if amount is None else amount)

    @rule(payment_no=payments, reply=MOVES_MOSTLY_ANSWERED)
    def cancel(self, payment_no: str, reply: str) -> None:
        before = self.payment(payment_no)
        cancellable = before.pending_move is None and before.status in (
            S.REQUIRES_CAPTURE, S.REQUIRES_REVIEW)
        scripted = MOVE_REPLIES[reply]
        if scripted is not None:
            self.gateway.channel.script_moves(scripted)
        refused = None
        try:
            self.run(self.gateway.cancel(payment_no, "changed my mind", self.merchant_id))
        except (DomainError, Unavailable) as error:
            refused = error.code
        self.gateway.channel.move_script.clear()
        after = self.payment(payment_no)
        if not cancellable:
            assert refused == "invalid_status"
            assert after == before
        elif before.status is S.REQUIRES_REVIEW:
            assert after.status is S.CANCELED
        else:
            assert refused == ("unavailable" if reply == "not_sent" else None)
            assert after.amount_captured == 0

    @rule(days=st.sampled_from([0, 1, 8]))
    def expire(self, days: int) -> None:
        self.gateway.clock.advance(days=days, seconds=1)
        self.run(self.gateway.expire_authorizations())
        now = self.gateway.clock.now()
        for payment in self.gateway.db.payments.values():
            if payment.status is S.REQUIRES_CAPTURE and payment.pending_move is None:
                assert not payment.is_expired(now)

    @rule(payment_no=payments, succeeded=st.booleans())
    def charge_notification(self, payment_no: str, succeeded: bool) -> None:
        before = self.payment(payment_no)
        kind = "charge.succeeded" if succeeded else "charge.failed"
        self.run(self.gateway.notify(kind, payment_no, failure_code="card_declined"))
        after = self.payment(payment_no).status
        manual = before.capture_method is CaptureMethod.MANUAL
        went_through = S.REQUIRES_CAPTURE if manual else S.SUCCEEDED
        if before.status in UNRESOLVED:
            assert after is (went_through if succeeded else S.FAILED)
        else:
            assert after is before.status

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
        except (DomainError, Unavailable) as error:
            refused = error.code
        assert refused == (None if under_review else "invalid_status")

    @rule()
    def reconcile(self) -> None:
        self.gateway.clock.advance(seconds=61)
        self.run(self.gateway.reconcile())
        db = self.gateway.db
        assert not [p for p in db.payments.values() if p.status in UNRESOLVED]
        assert not [p for p in db.payments.values() if p.pending_move is not None]
        assert not [r for r in db.refunds.values() if r.status is RefundStatus.PENDING]

    # -- invariants --------------------------------------------------------------------
    @invariant()
    def refunded_never_exceeds_captured_nor_captured_authorized(self) -> None:
        reserved: dict[str, int] = defaultdict(int)
        refunded: dict[str, int] = defaultdict(int)
        for refund in self.gateway.db.refunds.values():
            if refund.status is not RefundStatus.FAILED:
                reserved[refund.payment_no] += refund.amount.amount
            if refund.status is RefundStatus.SUCCEEDED:
                refunded[refund.payment_no] += refund.amount.amount
        for payment in self.gateway.db.payments.values():
            assert 0 <= payment.refunded_amount <= payment.refund_reserved
            assert payment.refund_reserved <= payment.amount_captured <= payment.amount.amount
            if payment.status in (S.CANCELED, S.REQUIRES_CAPTURE, S.FAILED, S.REJECTED):
                assert payment.amount_captured == 0
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
            expected[payment.currency] += payment.amount_captured
        for refund in db.refunds.values():
            if refund.status is RefundStatus.SUCCEEDED:
                expected[refund.currency] -= refund.amount.amount
        for currency in ("USD", "JPY", "KWD"):
            assert self.gateway.merchant_balance(self.merchant_id, currency) == expected[currency]

    @invariant()
    def the_ledger_posts_exactly_what_each_payment_captured(self) -> None:
        posted: dict[str, int] = defaultdict(int)
        for posting in self.gateway.db.postings:
            if posting.posting_id.startswith("capture:"):
                [received] = [e for e in posting.entries if e.account == ACQUIRER_RECEIVABLE]
                assert received.side is Side.DEBIT
                posted[posting.posting_id.removeprefix("capture:")] += received.amount.amount
        for payment in self.gateway.db.payments.values():
            assert posted[payment.payment_no] == payment.amount_captured

    @invariant()
    def nothing_is_charged_or_refunded_twice(self) -> None:
        channel = self.gateway.channel
        assert max(channel.charges.values(), default=0) <= 1
        assert max(channel.refunds.values(), default=0) <= 1

    @invariant()
    def a_capture_or_void_that_went_through_is_never_sent_again(self) -> None:
        """Its answer lost, it is asked about, not sent again: only a capture or void that
        certainly did nothing (unreachable channel, refusal) may be sent once more."""
        assert self.gateway.channel.moves_repeated == {}


PaymentLifecycle.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestPaymentLifecycle = PaymentLifecycle.TestCase
