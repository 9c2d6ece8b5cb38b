"""Void the authorizations whose hold lapsed uncaptured: the worker runs it on a schedule."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from application.commands import CancelPaymentCommand
from application.ports.platform import Clock
from application.ports.storage import UnitOfWorkFactory
from domain.errors import InvalidStatus
from domain.payment import Payment, PaymentStatus

log = logging.getLogger(__name__)

Cancel = Callable[[CancelPaymentCommand], Awaitable[Payment]]


@dataclass(frozen=True, slots=True)
class ExpireAuthorizations:
    """Each lapsed hold goes through `cancel` (CancelPayment, traced and metered like a
    merchant's cancel), so it is voided at the channel, announced `payment.canceled` with
    `cancellation_reason` expired, and a later capture is `authorization_expired`.

    One that was captured or cancelled meanwhile is skipped; one the channel cannot answer
    for is left, claimed, to the reconciler; an error on one never holds up the others.
    """

    uow: UnitOfWorkFactory
    clock: Clock
    cancel: Cancel
    batch: int = 100

    async def __call__(self) -> dict[str, int]:
        """Counts, e.g. {"authorizations_expired": 2}."""
        async with self.uow(read_only=True) as uow:
            due = await uow.payments.list_expiring(self.clock.now(), self.batch)
        counts: Counter[str] = Counter()
        for payment in due:
            try:
                done = await self.cancel(CancelPaymentCommand(
                    payment_no=payment.payment_no, merchant_id=None, on_expiry=True))
            except InvalidStatus:  # captured, cancelled or being so since it was listed
                counts["authorizations_skipped"] += 1
                continue
            except Exception:
                log.exception("could not expire %s; trying the next", payment.payment_no)
                counts["errors"] += 1
                continue
            ended = done.status is PaymentStatus.CANCELED
            counts["authorizations_expired" if ended else "authorizations_expiring"] += 1
        return dict(counts)
