"""The Payment aggregate and its state machine (docs/adr/0013).

    pending -> processing -> succeeded | failed           (automatic: charged at once)
    pending -> processing -> requires_capture | failed    (manual: authorized only)
    requires_capture -> succeeded (captured) | canceled (voided, expired, capture declined)
    pending -> requires_review -> processing (approved) | rejected | canceled
    pending -> rejected (risk said reject)
    succeeded -> partially_refunded -> refunded

No other transition exists; every move is an explicit method, and an illegal one raises
`InvalidStatus`. `amount` is what was authorized, `amount_captured` what was taken, and
refunds reach captured money only: `refund_reserved` counts every refund not failed,
`refunded_amount` those that succeeded. refunded <= reserved <= captured <= amount.
A payment remembers the states it moved into until `take_moves` hands them over to be
announced, one event per move.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum

from domain.authorization import (
    CAPTURE_DECLINED,
    EXPIRED,
    REQUESTED,
    CaptureMethod,
    HoldMove,
    amount_to_capture,
)
from domain.card import CardSummary
from domain.errors import AmountExceeded, AuthorizationExpired, InvalidAmount, InvalidStatus
from domain.money import Money, check_minor_units
from domain.refund import Refund
from domain.risk import RiskDecision, Verdict
from domain.routing import Attempt, AttemptOutcome, attempt_key
from domain.timestamps import rfc3339


class PaymentStatus(StrEnum):
    PENDING = "pending"
    REQUIRES_REVIEW = "requires_review"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELED = "canceled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


_S = PaymentStatus
TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    _S.PENDING: frozenset({_S.PROCESSING, _S.REQUIRES_REVIEW, _S.REJECTED}),
    _S.REQUIRES_REVIEW: frozenset({_S.PROCESSING, _S.REJECTED, _S.CANCELED}),
    _S.PROCESSING: frozenset({_S.SUCCEEDED, _S.FAILED, _S.REQUIRES_CAPTURE}),
    _S.REQUIRES_CAPTURE: frozenset({_S.SUCCEEDED, _S.CANCELED}),
    _S.SUCCEEDED: frozenset({_S.PARTIALLY_REFUNDED, _S.REFUNDED}),
    _S.PARTIALLY_REFUNDED: frozenset({_S.PARTIALLY_REFUNDED, _S.REFUNDED}),
    _S.FAILED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.CANCELED: frozenset(),
    _S.REFUNDED: frozenset(),
}
CAPTURED = frozenset({_S.SUCCEEDED, _S.PARTIALLY_REFUNDED, _S.REFUNDED})
REFUNDABLE = frozenset({_S.SUCCEEDED, _S.PARTIALLY_REFUNDED})
UNRESOLVED = frozenset({_S.PENDING, _S.PROCESSING})
ENDED_UNPAID = frozenset({_S.FAILED, _S.REJECTED, _S.CANCELED})
"""An order whose every payment ended in one of these may be paid again."""

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
    capture_method: CaptureMethod = CaptureMethod.AUTOMATIC
    amount_captured: int = 0
    capture_before: datetime | None = None  # when a manual payment's hold lapses
    cancellation_reason: str | None = None
    pending_move: HoldMove | None = None  # a capture or void sent, its answer not recorded
    pending_capture: int = 0  # the amount of that capture
    # 0: the merchant named the channel (one implicit attempt, keyed by the payment number);
    # n >= 1: routed, and `channel` is that of attempt n, the latest (docs/adr/0025)
    attempt: int = 0
    attempts: list[Attempt] = field(default_factory=list, compare=False)  # routed only
    version: int = 0  # optimistic-concurrency token, advanced by the repository on update
    # the states moved into since the last `take_moves`, oldest first; the newest is the
    # payment itself until the next move (or `take_moves`) freezes it as it stands
    unannounced: list[Payment] = field(default_factory=list, repr=False, compare=False)

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def refundable(self) -> int:
        """What may still be refunded: the captured money minus every refund not failed."""
        return self.amount_captured - self.refund_reserved

    @property
    def amount_capturable(self) -> int:
        """What the hold on the card still lets a capture take."""
        return self.amount.amount if self.status is PaymentStatus.REQUIRES_CAPTURE else 0

    def is_expired(self, now: datetime) -> bool:
        """The hold lapses at `capture_before`: a capture at that instant is too late."""
        return self.capture_before is not None and now >= self.capture_before

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
            self.unannounced[-1] = self.snapshot()

    def snapshot(self) -> Payment:
        """This payment as it stands, without its moves not yet announced: a shallow copy
        (lists and mappings shared, as `dataclasses.replace` shares them), made without
        running `__init__` again. A payment takes about three a charge; `replace` spent
        ~3 µs on each, matching every field to a keyword."""
        copied = object.__new__(Payment)
        for name in _SNAPSHOT_FIELDS:
            setattr(copied, name, getattr(self, name))
        copied.unannounced = []
        return copied

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
        """Approved: sent to the channel, charged or (manual) authorized, like any payment."""
        self._check_open(PaymentStatus.REQUIRES_REVIEW, "approved")
        self._move(PaymentStatus.PROCESSING, now)

    def reject_review(self, now: datetime, note: str | None = None) -> None:
        self._check_open(PaymentStatus.REQUIRES_REVIEW, "rejected")
        self._move(PaymentStatus.REJECTED, now)
        self._failure(REVIEW_REJECTED, note or "the payment was rejected in manual review")

    # -- attempts (routed payments) --------------------------------------------------
    @property
    def routed(self) -> bool:
        return self.attempt > 0

    @property
    def current_key(self) -> str:
        """The idempotency key the current attempt's channel sees."""
        return attempt_key(self.payment_no, max(self.attempt, 1))

    def begin_attempt(self, channel: str, now: datetime) -> Attempt:
        """The next attempt, on `channel`: recorded (and committed) before it is sent. Only
        a payment not yet charged may be tried again."""
        if self.status is not PaymentStatus.PENDING:
            raise InvalidStatus(
                f"payment {self.payment_no} is {self.status}; it cannot be tried again",
                status=str(self.status))
        attempt = Attempt(payment_no=self.payment_no, seq=self.attempt + 1, channel=channel,
                          started_at=now)
        self.attempt = attempt.seq
        self.channel = channel
        self.attempts.append(attempt)
        return attempt

    def end_attempt(self, outcome: AttemptOutcome, failure_code: str | None) -> Attempt | None:
        """What the current attempt came to; None for a payment that named its channel."""
        if not self.attempts:
            return None
        current = self.attempts[-1]
        current.end(outcome, failure_code)
        return current

    # -- charge ------------------------------------------------------------------------
    def start_processing(self, now: datetime) -> None:
        """The charge is sent. A payment under review gets here only through `approve_review`."""
        self._check_open(PaymentStatus.PENDING, "charged")
        self._move(PaymentStatus.PROCESSING, now)

    def succeed(self, now: datetime, reference: str | None = None) -> None:
        """An automatic payment's charge went through: all of it is captured at once."""
        self._require_method(CaptureMethod.AUTOMATIC, "charged")
        self._move(PaymentStatus.SUCCEEDED, now)
        self._captured(self.amount.amount, now, reference)

    def authorize(
        self, now: datetime, capture_before: datetime, reference: str | None = None
    ) -> None:
        """A manual payment's authorization went through: the amount is held on the card
        until `capture_before`, and nothing is captured yet."""
        self._require_method(CaptureMethod.MANUAL, "authorized")
        self._move(PaymentStatus.REQUIRES_CAPTURE, now)
        self.capture_before = capture_before
        self.channel_reference = reference or self.channel_reference
        self.payment_token = None

    def _require_method(self, method: CaptureMethod, verb: str) -> None:
        if self.capture_method is not method:
            raise InvalidStatus(
                f"payment {self.payment_no} is captured {self.capture_method}ally; it is not"
                f" {verb} that way",
                status=str(self.status),
            )

    def _captured(self, amount: int, now: datetime, reference: str | None) -> None:
        self.amount_captured = amount
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

    # -- capture and cancel -------------------------------------------------------------
    def begin_capture(self, amount: object, now: datetime) -> int:
        """Claim the hold for its one capture, before the channel is asked; `amount=None`
        captures everything held, less releases the rest. Returns the amount claimed."""
        if self.cancellation_reason == EXPIRED or (
            self.status is PaymentStatus.REQUIRES_CAPTURE and self.is_expired(now)
        ):
            raise AuthorizationExpired(
                f"payment {self.payment_no}'s authorization expired at {self._held_until}",
                capture_before=self._held_until)
        self._check_open(PaymentStatus.REQUIRES_CAPTURE, "captured")
        claimed = amount_to_capture(amount, self.amount_capturable, self.currency)
        self._claim(HoldMove.CAPTURE, claimed, now)
        return claimed

    def capture(self, now: datetime, reference: str | None = None) -> None:
        """The channel captured the claimed amount: the payment has succeeded with it."""
        claimed = self._settle(HoldMove.CAPTURE)
        self._move(PaymentStatus.SUCCEEDED, now)
        self._captured(claimed, now, reference)

    def decline_capture(self, now: datetime, code: str, message: str | None = None) -> None:
        """The channel refused the capture: nothing was taken and the payment is over."""
        self._settle(HoldMove.CAPTURE)
        self._move(PaymentStatus.CANCELED, now)
        self.cancellation_reason = CAPTURE_DECLINED
        self._failure(code, message or code.replace("_", " "))

    @property
    def _held_until(self) -> str | None:
        """`capture_before` as the payment view writes it (null when none was recorded),
        for errors: a client compares the two byte for byte."""
        return None if self.capture_before is None else rfc3339(self.capture_before)

    def begin_void(self, now: datetime, reason: str | None = None) -> None:
        """Claim the hold for the void that cancels it, before the channel is asked."""
        self._check_open(PaymentStatus.REQUIRES_CAPTURE, "canceled")
        self._claim(HoldMove.VOID, 0, now)
        self.cancellation_reason = reason or REQUESTED

    def begin_expiry(self, now: datetime) -> None:
        """Claim a lapsed hold for the void that ends it, `cancellation_reason` expired."""
        self._check_open(PaymentStatus.REQUIRES_CAPTURE, "expired")
        if not self.is_expired(now):
            raise InvalidStatus(f"payment {self.payment_no} holds until {self._held_until}")
        self._claim(HoldMove.VOID, 0, now)
        self.cancellation_reason = EXPIRED

    def void(self, now: datetime) -> None:
        """The channel released the hold: the payment is canceled, nothing captured."""
        self._settle(HoldMove.VOID)
        self._move(PaymentStatus.CANCELED, now)

    def release_move(self, now: datetime) -> None:
        """The capture or void never reached the channel: the hold stands as it was."""
        if self.pending_move is HoldMove.VOID:
            self.cancellation_reason = None
        self._settle(self.pending_move)
        self.updated_at = now

    def cancel_review(self, now: datetime, reason: str | None = None) -> None:
        """A payment in review was never sent to the channel: cancelling ends it here."""
        self._check_open(PaymentStatus.REQUIRES_REVIEW, "canceled")
        self._move(PaymentStatus.CANCELED, now)
        self.cancellation_reason = reason or REQUESTED
        self.payment_token = None

    def _check_open(self, status: PaymentStatus, verb: str) -> None:
        """In `status`, with no capture or void on its way: where a move may start."""
        if self.status is not status or self.pending_move is not None:
            busy = f" with a {self.pending_move} in progress" if self.pending_move else ""
            raise InvalidStatus(
                f"payment {self.payment_no} is {self.status}{busy}; only a {status} payment"
                f" can be {verb}",
                status=str(self.status),
            )

    def _claim(self, move: HoldMove, amount: int, now: datetime) -> None:
        self.pending_move, self.pending_capture = move, amount
        self.updated_at = now

    def _settle(self, move: HoldMove | None) -> int:
        """Clear the claim of `move`; the amount it captures (0 for a void)."""
        held = self.status is PaymentStatus.REQUIRES_CAPTURE
        if move is None or self.pending_move is not move or not held:
            raise InvalidStatus(f"payment {self.payment_no} has no {move or 'move'} in progress",
                                status=str(self.status))
        claimed = self.pending_capture
        self.pending_move, self.pending_capture = None, 0
        return claimed

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
        fully = refunded >= self.amount_captured
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


# What a snapshot copies: every field but the moves not yet announced.
_SNAPSHOT_FIELDS = tuple(f.name for f in fields(Payment) if f.name != "unannounced")
