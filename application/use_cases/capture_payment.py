"""Capture all or part of a manual payment's authorization, once."""

from __future__ import annotations

from dataclasses import dataclass

from application.auditing import AuditObject, AuditTrail
from application.commands import CapturePaymentCommand
from application.errors import NotFound
from application.holding import MoveRecorder, channel_of
from application.ports.channel import Channels
from application.ports.platform import Clock
from application.ports.storage import UnitOfWorkFactory
from domain.money import Money
from domain.operator import Action
from domain.payment import Payment


@dataclass(frozen=True, slots=True)
class CapturePayment:
    """Claim the hold under the payment's row lock, then ask the channel outside it.

    The committed claim is what lets exactly one of many concurrent captures (or a capture
    and a cancel) go ahead: every other finds it and is refused with `invalid_status`,
    whichever process it reached. The channel is asked outside any transaction.
    """

    uow: UnitOfWorkFactory
    channels: Channels
    clock: Clock
    recorder: MoveRecorder
    trail: AuditTrail

    async def __call__(self, command: CapturePaymentCommand) -> Payment:
        self.trail.check(command.actor, Action.PAYMENT_CAPTURE)
        async with self.uow() as uow:
            payment = await uow.payments.get(
                command.payment_no, command.merchant_id, for_update=True
            )
            if payment is None:
                raise NotFound(f"no payment {command.payment_no}")
            channel = channel_of(self.channels, payment)
            before = payment.status
            payment.begin_capture(command.amount, self.clock.now())
            await uow.payments.update(payment)
            await self.trail.record(
                uow, command.actor, Action.PAYMENT_CAPTURE,
                AuditObject("payment", payment.payment_no), before, payment.status,
                f"capture {Money(payment.pending_capture, payment.currency)} claimed")
            await uow.commit()
        return await self.recorder.send(channel, payment)
