"""Recording a refund's outcome: the payment, the refund, the ledger and events together."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.errors import NotFound
from application.outbox import refund_entry
from application.ports.channel import ChannelPort, Outcome, RefundRequest, RefundResult
from application.ports.platform import Clock, IdGenerator
from application.ports.storage import UnitOfWorkFactory
from domain.ledger import refund_posting
from domain.payment import Payment
from domain.refund import Refund, RefundStatus

log = logging.getLogger(__name__)


async def refund_safely(channel: ChannelPort, request: RefundRequest) -> RefundResult:
    """A surprise from the channel leaves the refund pending for the reconciler."""
    try:
        return await channel.refund(request)
    except Exception:
        log.exception("refund %s raised; the outcome is unknown", request.refund_no)
        return RefundResult(Outcome.UNKNOWN)


@dataclass(frozen=True, slots=True)
class RefundOutcome:
    refund: Refund
    payment: Payment


@dataclass(frozen=True, slots=True)
class RefundRecorder:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator

    async def record(self, refund_no: str, result: RefundResult) -> RefundOutcome:
        """Apply the result under the payment's lock; a refund already final stays as it is."""
        async with self.uow() as uow:
            refund = await uow.refunds.get(refund_no)
            if refund is None:
                raise NotFound(f"refund {refund_no} does not exist")
            payment = await uow.payments.get(refund.payment_no, for_update=True)
            if payment is None:
                raise NotFound(f"payment {refund.payment_no} does not exist")
            if refund.status is not RefundStatus.PENDING or result.outcome is Outcome.UNKNOWN:
                return RefundOutcome(refund, payment)
            now = self.clock.now()
            if result.outcome is Outcome.SUCCEEDED:
                refund.succeed(now, result.reference)
                payment.complete_refund(refund, now)
                await uow.ledger.append([refund_posting(refund, now)])
            else:
                refund.fail(now, result.failure_code or "processing_error", result.failure_message)
                payment.release_refund(refund, now)
            await uow.refunds.update(refund)
            await uow.payments.update(
                payment, announce=refund_entry(self.ids, payment, refund, now))
            await uow.commit()
            return RefundOutcome(refund, payment)
