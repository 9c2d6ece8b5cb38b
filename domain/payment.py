"""The Payment aggregate and its state machine.

    pending -> processing -> succeeded | failed
    pending -> requires_review -> processing (approved) | rejected (rejected)
    pending -> rejected (risk said reject)
    succeeded -> partially_refunded -> refunded

No other transition exists; every move is an explicit method, and an illegal one raises
`InvalidStatus`. A payment remembers the states it moved into until `take_moves` hands
them over to be announced, one event per move. Refund money is tracked twice:
`refund_reserved` counts every refund that has not failed (pending ones included),
`refunded_amount` only those that succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from domain.card import CardSummary
from domain.errors import AmountExceeded, InvalidAmount, InvalidStatus
from domain.money import Money, check_minor_units
from domain.refund import Refund
from domain.risk import RiskDecision, Verdict


class PaymentStatus(StrEnum):
    PENDING = "pending"
    REQUIRES_REVIEW = "requires_review"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


_S = PaymentStatus
TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    _S.PENDING: frozenset({_S.PROCESSING, _S.REQUIRES_REVIEW, _S.REJECTED}),
    _S.REQUIRES_REVIEW: frozenset({_S.PROCESSING, _S.REJECTED}),
    _S.PROCESSING: frozenset({_S.SUCCEEDED, _S.FAILED}),
    _S.SUCCEEDED: frozenset({_S.PARTIALLY_REFUNDED, _S.REFUNDED}),
    _S.PARTIALLY_REFUNDED: frozenset({_S.PARTIALLY_REFUNDED, _S.REFUNDED}),
    _S.FAILED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.REFUNDED: frozenset(),
}
CAPTURED = frozenset({_S.SUCCEEDED, _S.PARTIALLY_REFUNDED, _S.REFUNDED})
REFUNDABLE = frozenset({_S.SUCCEEDED, _S.PARTIALLY_REFUNDED})
UNRESOLVED = frozenset({_S.PENDING, _S.PROCESSING})

RISK_REJECTED = "risk_rejected"
REVIEW_REJECTED = "review_rejected"


@dataclass(slots=True, kw_only=True)
class Payment:
    payment_no: str
    merchant_id: str
    order_no: str
    amount: Money
    channel: str
    created_at: datetime
    updated_at: datetime
    status: PaymentStatus = PaymentStatus.PENDING
    risk: RiskDecision | None = None
    card: CardSummary | None = None
    refunded_amount: int = 0
    refund_reserved: int = 0
    failure_code: str | None = None
    failure_message: str | None = None
    description: str | None = None
    notify_url: str | None = None
    customer_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    channel_reference: str | None = None
    payment_token: str | None = None
    captured_at: datetime | None = None
    version: int = 0  # optimistic-concurrency token, advanced by the repository on update
    # the states moved into since the last `take_moves`, oldest first; the newest is the
    # payment itself until the next move (or `take_moves`) freezes it as it stands
    unannounced: list[Payment] = field(default_factory=list, repr=False, compare=False)

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def refundable(self) -> int:
        """What may still be refunded: the amount minus every refund not failed."""
        return self.amount.amount - self.refund_reserved

    @property
    def is_terminal(self) -> bool:
        return not TRANSITIONS[self.status]

    def _move(self, target: PaymentStatus, now: datetime) -> None:
        if target not in TRANSITIONS[self.status]:
            raise InvalidStatus(
                f"payment {self.payment_no} is {self.status}; it cannot become {target}",
                status=str(self.status),
            )
        self._freeze_last_move()
        self.status = target
        self.updated_at = now
        self.unannounced.append(self)

    def take_moves(self) -> list[Payment]:
        """Each state this payment moved into since the last call, as that move left it."""
        self._freeze_last_move()
        moves, self.unannounced = self.unannounced, []
        return moves

    def _freeze_last_move(self) -> None:
        """The previous move is complete (its failure code, capture time...): keep a copy."""
        if self.unannounced:
            self.unannounced[-1] = replace(self, unannounced=[])

    # -- risk and review -------------------------------------------------------------
    def apply_risk(self, decision: RiskDecision, now: datetime) -> None:
        """Record the assessment; review and reject move the payment, approve keeps it pending."""
        if self.status is not PaymentStatus.PENDING:
            raise InvalidStatus(f"payment {self.payment_no} was already assessed")
        self.risk = decision
        if decision.verdict is Verdict.REVIEW:
            self._move(PaymentStatus.REQUIRES_REVIEW, now)
        elif decision.verdict is Verdict.REJECT:
            self._move(PaymentStatus.REJECTED, now)
            self._failure(RISK_REJECTED, "the payment was rejected by risk checks")
        else:
            self.updated_at = now

    def approve_review(self, now: datetime) -> None:
        if self.status is not PaymentStatus.REQUIRES_REVIEW:
            raise InvalidStatus(f"payment {self.payment_no} is {self.status}, not requires_review")
        self._move(PaymentStatus.PROCESSING, now)

    def reject_review(self, now: datetime, note: str | None = None) -> None:
        if self.status is not PaymentStatus.REQUIRES_REVIEW:
            raise InvalidStatus(f"payment {self.payment_no} is {self.status}, not requires_review")
        self._move(PaymentStatus.REJECTED, now)
        self._failure(REVIEW_REJECTED, note or "the payment was rejected in manual review")

    # -- charge ------------------------------------------------------------------------
    def start_processing(self, now: datetime) -> None:
        """The charge is sent. A payment under review gets here only through `approve_review`."""
        if self.status is not PaymentStatus.PENDING:
            raise InvalidStatus(
                f"payment {self.payment_no} is {self.status}; only a pending payment is charged",
                status=str(self.status),
            )
        self._move(PaymentStatus.PROCESSING, now)

    def succeed(self, now: datetime, reference: str | None = None) -> None:
        self._move(PaymentStatus.SUCCEEDED, now)
        self.captured_at = now
        self.channel_reference = reference or self.channel_reference
        self.payment_token = None

    def fail(self, now: datetime, code: str, message: str | None = None) -> None:
        self._move(PaymentStatus.FAILED, now)
        self._failure(code, message or code.replace("_", " "))
        self.payment_token = None

    def _failure(self, code: str, message: str) -> None:
        self.failure_code = code
        self.failure_message = message

    # -- refunds -----------------------------------------------------------------------
    def reserve_refund(
        self, refund_no: str, amount: int | None, now: datetime, reason: str | None = None
    ) -> Refund:
        """Open a pending refund; `amount=None` refunds everything that is left.

        A refusal names the payment's currency, which the caller's request did not carry."""
        try:
            requested = (self.refundable if amount is None
                         else check_minor_units(amount, positive=True))
        except InvalidAmount as error:
            error.details["currency"] = self.currency
            raise
        if self.status not in REFUNDABLE:
            raise InvalidStatus(
                f"payment {self.payment_no} is {self.status}; only succeeded or partially_refunded"
                " payments can be refunded",
                status=str(self.status),
                currency=self.currency,
            )
        if requested > self.refundable or requested == 0:
            asked, left = Money(requested, self.currency), Money(self.refundable, self.currency)
            raise AmountExceeded(
                f"refund of {asked} exceeds what is left to refund ({left})",
                remaining=self.refundable,
                currency=self.currency,
            )
        self.refund_reserved += requested
        self.updated_at = now
        return Refund.open(refund_no, self, Money(requested, self.currency), now, reason)

    def complete_refund(self, refund: Refund, now: datetime) -> None:
        """A reserved refund succeeded: the payment becomes partially or fully refunded."""
        self._check_own(refund)
        refunded = self.refunded_amount + refund.amount.amount
        fully = refunded >= self.amount.amount
        self._move(PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED, now)
        self.refunded_amount = refunded

    def release_refund(self, refund: Refund, now: datetime) -> None:
        """A reserved refund failed: its amount is refundable again."""
        self._check_own(refund)
        self.refund_reserved -= refund.amount.amount
        self.updated_at = now

    def _check_own(self, refund: Refund) -> None:
        if refund.payment_no != self.payment_no:
            raise InvalidStatus(f"refund {refund.refund_no} belongs to another payment")
        if refund.amount.amount > self.refund_reserved - self.refunded_amount:
            raise AmountExceeded(
                f"refund {refund.refund_no} was never reserved on {self.payment_no}"
            )
