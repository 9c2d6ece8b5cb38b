"""Resolve payments, captures, voids and refunds whose outcome we never heard, by asking
the channel: never by sending them again."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.charging import ChargeRecorder
from application.holding import MoveRecorder
from application.ports.channel import ChannelPort, Channels, ChargeResult, Outcome
from application.ports.platform import Clock
from application.ports.storage import UnitOfWorkFactory
from application.refunding import RefundRecorder
from domain.authorization import HoldMove
from domain.payment import Payment, PaymentStatus

log = logging.getLogger(__name__)

NOT_FOUND = "not_found"
GRACE = timedelta(seconds=60)  # longer than a request may hold a payment it is charging
PENDING = PaymentStatus.PENDING


def never_charged(payment: Payment, answer: ChargeResult) -> ChargeResult:
    """A payment still `pending` past the grace never had its outcome recorded: the process
    died around the charge. If the channel has no such charge, none was made, and the
    payment fails; trusting anything else would credit a merchant with money never taken.
    A `processing` payment was sent for certain, so "not found" there means "wait"."""
    if (
        payment.status is PaymentStatus.PENDING
        and answer.outcome is Outcome.UNKNOWN
        and answer.failure_code == NOT_FOUND
    ):
        return ChargeResult(
            Outcome.FAILED, None, "not_charged", "the channel never received this charge"
        )
    return answer


@dataclass(frozen=True, slots=True)
class ReconcilePayments:
    """`grace` keeps it away from payments whose charge may still be in flight.

    A `pending` payment or refund is still the request's that made it until `grace` has
    passed: that request may be charging it, and would find its row changed under it. A
    `processing` payment was answered already (its outcome unknown), so an operator may ask
    the channel sooner (`older_than`). One payment the channel cannot answer for must not
    hold up the others: it is counted under "errors", logged, and left for the next run.
    """

    uow: UnitOfWorkFactory
    channels: Channels
    clock: Clock
    charges: ChargeRecorder
    refunds: RefundRecorder
    moves: MoveRecorder
    grace: timedelta = GRACE
    batch: int = 100

    async def __call__(self, older_than: timedelta | None = None) -> dict[str, int]:
        """Counts by resulting status, e.g. {"succeeded": 3, "processing": 1}."""
        cutoff, settled = self._cutoffs(older_than)
        async with self.uow(read_only=True) as uow:
            due = await uow.payments.list_unresolved(cutoff, self.batch)
            moves = await uow.payments.list_unanswered_moves(cutoff, self.batch)
            refunds = await uow.refunds.list_pending(settled, self.batch)
        payments = [p for p in due if p.updated_at < settled or p.status is not PENDING]
        counts: Counter[str] = Counter()
        for held in moves:
            channel = self.channels.get(held.channel)
            if channel is None:
                counts["skipped"] += 1
                continue
            try:
                counts[await self._resolve_move(channel, held)] += 1
            except Exception:
                log.exception("could not reconcile the %s of %s; trying the next",
                              held.pending_move, held.payment_no)
                counts["errors"] += 1
        for payment in payments:
            channel = self.channels.get(payment.channel)
            if channel is None:
                counts["skipped"] += 1
                continue
            try:
                result = never_charged(
                    payment,
                    # the current attempt's channel, under that attempt's key
                    await channel.query_charge(payment.current_key, payment.channel_reference),
                )
                counts[(await self.charges.record(payment, result)).status.value] += 1
            except Exception:
                log.exception("could not reconcile payment %s; trying the next", payment.payment_no)
                counts["errors"] += 1
        for refund in refunds:
            async with self.uow(read_only=True) as uow:
                owner = await uow.payments.get(refund.payment_no)
            channel = self.channels.get(owner.channel) if owner else None
            if channel is None:
                counts["skipped"] += 1
                continue
            try:
                answer = await channel.query_refund(refund.refund_no, refund.channel_reference)
                outcome = await self.refunds.record(refund.refund_no, answer)
                counts[f"refund_{outcome.refund.status.value}"] += 1
            except Exception:
                log.exception("could not reconcile refund %s; trying the next", refund.refund_no)
                counts["errors"] += 1
        return dict(counts)

    async def _resolve_move(self, channel: ChannelPort, held: Payment) -> str:
        """Ask what became of the capture or void; e.g. "capture_succeeded"."""
        move = held.pending_move
        assert move is not None
        query = channel.query_capture if move is HoldMove.CAPTURE else channel.query_void
        answer = await query(held.payment_no, held.channel_reference)
        done = await self.moves.record(held.payment_no, move, answer)
        return f"{move}_{done.status.value}"

    async def waiting(self, older_than: timedelta | None = None) -> dict[str, int]:
        """What is left unresolved, by why: `processing` payments changed after the cutoff,
        `pending` payments and refunds within the grace, and older ones still unresolved."""
        cutoff, settled = self._cutoffs(older_than)
        async with self.uow(read_only=True) as uow:
            recent = await uow.payments.count_unresolved(updated_from=cutoff)
            young = await uow.payments.count_unresolved(updated_from=settled)
            young_refunds = await uow.refunds.count_pending(updated_from=settled)
            all_payments = await uow.payments.count_unresolved()
            all_refunds = await uow.refunds.count_pending()
        processing_recent = recent.get(PaymentStatus.PROCESSING.value, 0)
        pending_recent = young.get(PENDING.value, 0) + young_refunds
        unresolved = sum(all_payments.values()) + all_refunds
        return {
            "processing_changed_recently": processing_recent,
            "pending_within_grace": pending_recent,
            "still_unresolved": unresolved - processing_recent - pending_recent,
        }

    def _cutoffs(self, older_than: timedelta | None) -> tuple[datetime, datetime]:
        """Before when a `processing` payment is due, and before when a `pending` payment
        or refund is: never within the grace."""
        now = self.clock.now()
        cutoff = now - (self.grace if older_than is None else older_than)
        return cutoff, min(cutoff, now - self.grace)
