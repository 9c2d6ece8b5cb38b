"""Sending a capture or a void, and recording what the channel said about it.

Shared by CapturePayment, CancelPayment (and so the worker's expiry) and the reconciler,
so an authorization moves by the same rules whoever learns the answer. The payment's
claim (`pending_move`) is committed before anything is sent; the answer is recorded under
the payment's row lock, and only while that claim still stands, so a late or repeated
answer changes nothing and nothing is captured or voided twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.errors import NotFound, Unavailable
from application.following import follow_after, follow_within
from application.outbox import payment_entry
from application.ports.channel import (
    NOT_CAPTURED,
    NOT_SENT,
    CaptureRequest,
    ChannelPort,
    Channels,
    ChargeResult,
    Outcome,
    VoidRequest,
)
from application.ports.external import OrderPort
from application.ports.platform import Clock, IdGenerator
from application.ports.storage import UnitOfWorkFactory
from domain.authorization import HoldMove
from domain.errors import InvalidChannel
from domain.ledger import capture_posting
from domain.money import Money
from domain.payment import Payment, PaymentStatus

log = logging.getLogger(__name__)

HOLD_STANDS = frozenset({NOT_SENT, NOT_CAPTURED})
"""Failure codes that say the capture never happened at the channel: the hold stands."""


def channel_of(channels: Channels, payment: Payment) -> ChannelPort:
    """The payment's channel, looked up before anything is claimed or written."""
    channel = channels.get(payment.channel)
    if channel is None:
        raise InvalidChannel(f"channel {payment.channel!r} is no longer configured")
    return channel


async def send_move(channel: ChannelPort, payment: Payment) -> ChargeResult:
    """Send the payment's claimed capture or void. Any surprise from the channel means we
    cannot know whether it happened: UNKNOWN, left to the reconciler."""
    try:
        if payment.pending_move is HoldMove.CAPTURE:
            return await channel.capture(CaptureRequest(
                payment.payment_no, payment.merchant_id,
                Money(payment.pending_capture, payment.currency), payment.channel_reference))
        return await channel.void(
            VoidRequest(payment.payment_no, payment.merchant_id, payment.channel_reference))
    except Exception:
        log.exception("%s of %s raised; the outcome is unknown",
                      payment.pending_move, payment.payment_no)
        return ChargeResult(Outcome.UNKNOWN)


def apply_move_result(payment: Payment, move: HoldMove, result: ChargeResult, clock: Clock) -> bool:
    """Move the payment as the channel's answer says; False when there is nothing to do:
    the claim was already settled, or the answer is still unknown."""
    if payment.pending_move is not move or result.outcome is Outcome.UNKNOWN:
        return False
    now = clock.now()
    if result.outcome is Outcome.SUCCEEDED:
        if move is HoldMove.CAPTURE:
            payment.capture(now, result.reference)
        else:
            payment.void(now)
    elif move is HoldMove.CAPTURE and result.failure_code not in HOLD_STANDS:
        payment.decline_capture(now, result.failure_code or "capture_declined",
                                result.failure_message)
    elif move is HoldMove.VOID and result.failure_code != NOT_SENT and payment.is_expired(now):
        log.warning("the channel refused to void %s (%s) after its hold lapsed: canceled",
                    payment.payment_no, result.failure_code)
        payment.void(now)
    else:
        if move is HoldMove.VOID and result.failure_code != NOT_SENT:
            log.error("the channel refused to void %s (%s): the hold stands",
                      payment.payment_no, result.failure_code)
        payment.release_move(now)
    return True


@dataclass(frozen=True, slots=True)
class MoveRecorder:
    """Writes a capture's or a void's outcome with its posting and webhook in one unit."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    orders: OrderPort

    async def send(self, channel: ChannelPort, claimed: Payment) -> Payment:
        """Send the committed claim and record the answer. A claim that never reached the
        channel is released and reported `Unavailable` (nothing happened); an answer that
        cannot be written is the payment as committed, for the reconciler to finish."""
        move = claimed.pending_move
        assert move is not None, "send a payment whose capture or void was claimed"
        result = await send_move(channel, claimed)
        try:
            payment = await self.record(claimed.payment_no, move, result)
        except Unavailable as error:
            log.error("the %s of %s was sent but its outcome (%s) could not be recorded: %s;"
                      " the reconciler will", move, claimed.payment_no, result.outcome.value,
                      error)
            return claimed
        if result.outcome is Outcome.FAILED and result.failure_code == NOT_SENT:
            raise Unavailable(f"the channel could not be reached; the {move} of "
                              f"{claimed.payment_no} was not sent and nothing changed")
        return payment

    async def record(self, payment_no: str, move: HoldMove, result: ChargeResult) -> Payment:
        async with self.uow() as uow:
            payment = await uow.payments.get(payment_no, for_update=True)
            if payment is None:
                raise NotFound(f"payment {payment_no} does not exist")
            if not apply_move_result(payment, move, result, self.clock):
                return payment
            await uow.payments.update(
                payment, announce=payment_entry(self.ids, payment, payment.updated_at))
            if payment.status is PaymentStatus.SUCCEEDED:
                await uow.ledger.append([capture_posting(payment, payment.updated_at)])
            await follow_within(self.orders, uow, payment)
            await uow.commit()
        await follow_after(self.orders, payment)
        return payment
