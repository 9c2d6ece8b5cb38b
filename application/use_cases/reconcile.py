"""Resolve payments, captures, voids and refunds whose outcome we never heard, by asking
the channel: never by sending them again."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

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

    One payment the channel cannot answer for must not hold up the others: it is counted
    under "errors", logged, and left unresolved for the next run.
    """

    uow: UnitOfWorkFactory
    channels: Channels
    clock: Clock
    charges: ChargeRecorder
    refunds: RefundRecorder
    moves: MoveRecorder
    grace: timedelta = timedelta(seconds=60)
    batch: int = 100

    async def __call__(self) -> dict[str, int]:
        """Counts by resulting status, e.g. {"succeeded": 3, "processing": 1}."""
        before = self.clock.now() - self.grace
        async with self.uow(read_only=True) as uow:
            payments = await uow.payments.list_unresolved(before, self.batch)
            moves = await uow.payments.list_unanswered_moves(before, self.batch)
            refunds = await uow.refunds.list_pending(before, self.batch)
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
                    await channel.query_charge(payment.payment_no, payment.channel_reference),
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
