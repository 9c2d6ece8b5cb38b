"""Charging a payment and recording what the channel said.

Shared by CreatePayment, ReviewPayment, channel notifications and the reconciler, so a
payment moves through the same rules whoever learns its outcome first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.errors import ConcurrentUpdate, NotFound
from application.following import follow_after, follow_within
from application.outbox import payment_entry
from application.ports.channel import ChannelPort, ChargeRequest, ChargeResult, Outcome
from application.ports.external import OrderPort
from application.ports.platform import Clock, IdGenerator
from application.ports.storage import UnitOfWorkFactory
from domain.authorization import DEFAULT_AUTHORIZATION_LIFETIME, CaptureMethod
from domain.ledger import capture_posting
from domain.payment import Payment, PaymentStatus
from domain.routing import AttemptOutcome

log = logging.getLogger(__name__)

_RACE_RETRIES = 5


async def charge_safely(
    channel: ChannelPort, request: ChargeRequest, method: CaptureMethod = CaptureMethod.AUTOMATIC
) -> ChargeResult:
    """Charge, or only authorize a `manual` payment. Any surprise from the channel means
    we cannot know whether money moved: UNKNOWN."""
    send = channel.authorize if method is CaptureMethod.MANUAL else channel.charge
    try:
        return await send(request)
    except Exception:
        log.exception("charge of %s raised; the outcome is unknown", request.payment_no)
        return ChargeResult(Outcome.UNKNOWN)


def apply_charge_result(payment: Payment, result: ChargeResult, clock: Clock) -> bool:
    """Move the payment as the result says (a manual payment's success is its
    authorization); False when it already knew (late or repeated)."""
    now = clock.now()
    changed = False
    if payment.status in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_REVIEW):
        if payment.status is PaymentStatus.REQUIRES_REVIEW:
            return False  # nothing was charged before approval: a stray notification
        payment.start_processing(now)
        changed = True
    if payment.status is not PaymentStatus.PROCESSING or result.outcome is Outcome.UNKNOWN:
        return changed
    if result.outcome is Outcome.SUCCEEDED and payment.capture_method is CaptureMethod.MANUAL:
        held = result.capture_before or now + DEFAULT_AUTHORIZATION_LIFETIME
        # to the millisecond the API shows, a little early rather than late
        held = held.replace(microsecond=held.microsecond // 1000 * 1000)
        payment.authorize(now, held, result.reference)
    elif result.outcome is Outcome.SUCCEEDED:
        payment.succeed(now, result.reference)
    else:
        payment.fail(now, result.failure_code or "processing_error", result.failure_message)
    return True


@dataclass(frozen=True, slots=True)
class ChargeRecorder:
    """Writes a charge outcome with its ledger posting and webhook in one transaction."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    orders: OrderPort

    async def record(self, payment: Payment, result: ChargeResult) -> Payment:
        for _ in range(_RACE_RETRIES):
            try:
                changed = await self._write(payment, result)
                break
            except ConcurrentUpdate:
                payment = await self._reload(payment.payment_no)
        else:
            raise ConcurrentUpdate(f"payment {payment.payment_no} kept changing under us")
        if changed:
            await follow_after(self.orders, payment)
        return payment

    async def _write(self, payment: Payment, result: ChargeResult) -> bool:
        async with self.uow() as uow:
            if not apply_charge_result(payment, result, self.clock):
                return False
            ended = None
            if payment.attempt:  # a routed payment's attempt row (docs/adr/0025)
                ended = payment.end_attempt(AttemptOutcome(result.outcome.value),
                                            result.failure_code)
            await uow.payments.update(
                payment, announce=payment_entry(self.ids, payment, payment.updated_at))
            if ended is not None:
                await uow.attempts.update(ended)
            if payment.status is PaymentStatus.SUCCEEDED:
                await uow.ledger.append([capture_posting(payment, payment.updated_at)])
            await follow_within(self.orders, uow, payment)
            await uow.commit()
            return True

    async def _reload(self, payment_no: str) -> Payment:
        async with self.uow(read_only=True) as uow:
            fresh = await uow.payments.get(payment_no)
        if fresh is None:
            raise NotFound(f"payment {payment_no} disappeared")
        return fresh
