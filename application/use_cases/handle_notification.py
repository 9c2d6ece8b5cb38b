"""A channel tells us how a charge or a refund ended."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.charging import ChargeRecorder
from application.errors import NotFound, ValidationFailed
from application.ports.channel import ChannelEvent, ChargeResult, Outcome, RefundResult
from application.ports.storage import UnitOfWorkFactory
from application.refunding import RefundRecorder

log = logging.getLogger(__name__)

_OUTCOMES = {"succeeded": Outcome.SUCCEEDED, "failed": Outcome.FAILED}


@dataclass(frozen=True, slots=True)
class HandleChannelNotification:
    """Idempotent and order-safe: the state machine ignores what is late or repeated."""

    uow: UnitOfWorkFactory
    charges: ChargeRecorder
    refunds: RefundRecorder

    async def __call__(self, channel: str, event: ChannelEvent) -> bool:
        """False for an event paygate does not act on: acknowledged, so the channel stops
        sending it, and nothing changes."""
        kind, _, verdict = event.type.partition(".")
        outcome = _OUTCOMES.get(verdict)
        if outcome is None or kind not in ("charge", "refund"):
            log.info("ignoring %s notification %s", event.type, event.event_id)
            return False
        if kind == "refund":
            if not event.refund_no:
                raise ValidationFailed("a refund notification needs a refund_no")
            async with self.uow(read_only=True) as uow:
                refund = await uow.refunds.get(event.refund_no)
                owner = await uow.payments.get(refund.payment_no) if refund else None
            if owner is None or owner.channel != channel:
                raise NotFound(f"no {channel} refund {event.refund_no}")
            await self.refunds.record(
                event.refund_no, RefundResult(outcome, event.reference, event.failure_code)
            )
            return True
        async with self.uow(read_only=True) as uow:
            payment = await uow.payments.get(event.payment_no)
        if payment is None or payment.channel != channel:
            raise NotFound(f"no {channel} payment {event.payment_no}")
        await self.charges.record(
            payment, ChargeResult(outcome, event.reference, event.failure_code)
        )
        return True
