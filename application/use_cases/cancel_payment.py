"""Cancel a payment that captured nothing: void its authorization, or end its review."""

from __future__ import annotations

from dataclasses import dataclass

from application.auditing import AuditObject, AuditTrail
from application.commands import CancelPaymentCommand
from application.errors import NotFound
from application.following import follow_after, follow_within
from application.holding import MoveRecorder, channel_of
from application.outbox import payment_entry
from application.ports.channel import Channels
from application.ports.platform import Clock, IdGenerator
from application.ports.storage import UnitOfWork, UnitOfWorkFactory
from domain.operator import Action
from domain.payment import Payment, PaymentStatus


@dataclass(frozen=True, slots=True)
class CancelPayment:
    """A payment in review was never sent to the channel: it is cancelled at once. An
    authorization is claimed for its void under the row lock and voided outside it, like
    a capture; the worker's expiry (`on_expiry`) is this same move, once the hold lapsed.
    """

    uow: UnitOfWorkFactory
    channels: Channels
    clock: Clock
    ids: IdGenerator
    recorder: MoveRecorder
    trail: AuditTrail

    async def __call__(self, command: CancelPaymentCommand) -> Payment:
        self.trail.check(command.actor, Action.PAYMENT_CANCEL)
        async with self.uow() as uow:
            payment = await uow.payments.get(
                command.payment_no, command.merchant_id, for_update=True
            )
            if payment is None:
                raise NotFound(f"no payment {command.payment_no}")
            now = self.clock.now()
            before = payment.status
            if payment.status is PaymentStatus.REQUIRES_REVIEW and not command.on_expiry:
                payment.cancel_review(now, command.reason)
                await self._audit(uow, command, payment, before)
                await self._end(uow, payment)
                return payment
            channel = channel_of(self.channels, payment)
            if command.on_expiry:
                payment.begin_expiry(now)
            else:
                payment.begin_void(now, command.reason)
            await uow.payments.update(payment)
            await self._audit(uow, command, payment, before)
            await uow.commit()
        return await self.recorder.send(channel, payment)

    async def _audit(self, uow: UnitOfWork, command: CancelPaymentCommand, payment: Payment,
                     before: PaymentStatus) -> None:
        await self.trail.record(uow, command.actor, Action.PAYMENT_CANCEL,
                                AuditObject("payment", payment.payment_no), before,
                                payment.status, command.reason)

    async def _end(self, uow: UnitOfWork, payment: Payment) -> None:
        await uow.payments.update(
            payment, announce=payment_entry(self.ids, payment, payment.updated_at))
        await follow_within(self.recorder.orders, uow, payment)
        await uow.commit()
        await follow_after(self.recorder.orders, payment)
