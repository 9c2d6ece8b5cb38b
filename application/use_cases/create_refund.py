"""Refund part or all of a captured payment."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.auditing import AuditObject, AuditTrail
from application.commands import CreateRefundCommand
from application.errors import NotFound, Unavailable
from application.outbox import refund_entry
from application.ports.channel import Channels, Outcome, RefundRequest, RefundResult
from application.ports.platform import Clock, IdGenerator
from application.ports.storage import UnitOfWorkFactory
from application.refunding import RefundOutcome, RefundRecorder, refund_safely
from domain.operator import Action

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CreateRefund:
    """Reserve the amount under the payment's row lock, then ask the channel outside it.

    The reservation is what keeps concurrent refunds from ever exceeding the amount:
    pending refunds count against what is left until they fail. A request key (the
    Idempotency-Key) names one refund of the payment: looked up under the same lock, so a
    retry, however late, answers that refund instead of making another. Once the channel was
    asked, the answer is the refund: if its outcome cannot be written, it is answered
    `pending` as it stands and the reconciler records the outcome.
    """

    uow: UnitOfWorkFactory
    channels: Channels
    clock: Clock
    ids: IdGenerator
    recorder: RefundRecorder
    trail: AuditTrail

    async def __call__(self, command: CreateRefundCommand) -> RefundOutcome:
        self.trail.check(command.actor, Action.PAYMENT_REFUND)
        async with self.uow() as uow:
            payment = await uow.payments.get(
                command.payment_no, command.merchant_id, for_update=True
            )
            if payment is None:
                raise NotFound(f"no payment {command.payment_no}")
            if command.request_key is not None:
                made = await uow.refunds.get_by_request_key(payment.payment_no, command.request_key)
                if made is not None:
                    return RefundOutcome(made, payment)
            refund = payment.reserve_refund(
                self.ids.new_id("ref"), command.amount, self.clock.now(), command.reason
            )
            refund.request_key = command.request_key
            await uow.payments.update(
                payment, announce=refund_entry(self.ids, payment, refund, refund.created_at))
            await uow.refunds.add(refund)
            await self.trail.record(
                uow, command.actor, Action.PAYMENT_REFUND, AuditObject("refund", refund.refund_no),
                None, refund.status,
                f"{refund.amount} of {payment.payment_no}"  # major units, as in errors
                + (f": {command.reason}" if command.reason else ""))
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
        try:
            return await self.recorder.record(refund.refund_no, result)
        except Exception as error:  # of any kind: the refund is committed (docs/adr/0028)
            log.error("refund %s was sent to its channel but its outcome (%s) could not be "
                      "recorded: %s; the reconciler will", refund.refund_no,
                      result.outcome.value, error, exc_info=not isinstance(error, Unavailable))
            return RefundOutcome(refund, payment)
