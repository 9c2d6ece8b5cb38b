"""Refund part or all of a captured payment."""

from __future__ import annotations

from dataclasses import dataclass

from application.commands import CreateRefundCommand
from application.errors import NotFound
from application.ports.channel import Channels, Outcome, RefundRequest, RefundResult
from application.ports.platform import Clock, IdGenerator
from application.ports.storage import UnitOfWorkFactory
from application.refunding import RefundOutcome, RefundRecorder, refund_safely


@dataclass(frozen=True, slots=True)
class CreateRefund:
    """Reserve the amount under the payment's row lock, then ask the channel outside it.

    The reservation is what keeps concurrent refunds from ever exceeding the amount:
    pending refunds count against what is left until they fail.
    """

    uow: UnitOfWorkFactory
    channels: Channels
    clock: Clock
    ids: IdGenerator
    recorder: RefundRecorder

    async def __call__(self, command: CreateRefundCommand) -> RefundOutcome:
        async with self.uow() as uow:
            payment = await uow.payments.get(
                command.payment_no, command.merchant_id, for_update=True
            )
            if payment is None:
                raise NotFound(f"no payment {command.payment_no}")
            refund = payment.reserve_refund(
                self.ids.new_id("ref"), command.amount, self.clock.now(), command.reason
            )
            await uow.payments.update(payment)
            await uow.refunds.add(refund)
            await uow.commit()
        channel = self.channels.get(payment.channel)
        result = (
            RefundResult(Outcome.UNKNOWN)
            if channel is None
            else await refund_safely(
                channel,
                RefundRequest(
                    refund.refund_no, payment.payment_no, refund.amount, payment.channel_reference
                ),
            )
        )
        return await self.recorder.record(refund.refund_no, result)
