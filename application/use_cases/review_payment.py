"""An operator's verdict on a payment that risk sent to manual review."""

from __future__ import annotations

from dataclasses import dataclass

from application.auditing import AuditObject, AuditTrail
from application.charging import ChargeRecorder, charge_safely
from application.commands import ReviewPaymentCommand
from application.errors import NotFound, ValidationFailed
from application.following import follow_after, follow_within
from application.outbox import payment_entry
from application.ports.channel import Channels, ChargeRequest
from application.ports.platform import Clock, IdGenerator
from application.ports.storage import UnitOfWorkFactory
from domain.errors import InvalidChannel
from domain.operator import Action
from domain.payment import Payment


@dataclass(frozen=True, slots=True)
class ReviewPayment:
    """Approve charges the card token kept at review time (or, for a manual payment, only
    authorizes it: it then requires capture); reject ends the payment."""

    uow: UnitOfWorkFactory
    channels: Channels
    clock: Clock
    ids: IdGenerator
    recorder: ChargeRecorder
    trail: AuditTrail

    async def __call__(self, command: ReviewPaymentCommand) -> Payment:
        self.trail.check(command.actor, Action.PAYMENT_REVIEW)
        if command.decision not in ("approve", "reject"):
            raise ValidationFailed("decision must be approve or reject")
        channel = None
        async with self.uow() as uow:
            payment = await uow.payments.get(command.payment_no, for_update=True)
            if payment is None:
                raise NotFound(f"no payment {command.payment_no}")
            before = payment.status
            if command.decision == "approve":
                payment.approve_review(self.clock.now())
                channel = self.channels.get(payment.channel)
                if channel is None:  # refused before anything is written: it stays in review
                    raise InvalidChannel(f"channel {payment.channel!r} is no longer configured")
            else:
                payment.reject_review(self.clock.now(), command.note)
            await uow.payments.update(
                payment, announce=payment_entry(self.ids, payment, payment.updated_at))
            await follow_within(self.recorder.orders, uow, payment)
            await self.trail.record(uow, command.actor, Action.PAYMENT_REVIEW,
                                    AuditObject("payment", payment.payment_no), before,
                                    payment.status, f"{command.decision}: {command.note or ''}")
            await uow.commit()
        if channel is None:
            await follow_after(self.recorder.orders, payment)
            return payment
        result = await charge_safely(
            channel,
            ChargeRequest(
                payment.payment_no,
                payment.merchant_id,
                payment.amount,
                token=payment.payment_token,
                description=payment.description,
            ),
            payment.capture_method,
        )
        return await self.recorder.record(payment, result)
