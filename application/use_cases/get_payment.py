"""Read one payment, scoped to its merchant."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import NotFound
from application.ports.storage import UnitOfWorkFactory
from domain.payment import Payment


@dataclass(frozen=True, slots=True)
class GetPayment:
    uow: UnitOfWorkFactory

    async def __call__(self, payment_no: str, merchant_id: str | None = None) -> Payment:
        """Another merchant's payment is indistinguishable from a missing one."""
        async with self.uow(read_only=True, snapshot=False) as uow:
            payment = await uow.payments.get(payment_no, merchant_id)
        if payment is None:
            raise NotFound(f"no payment {payment_no}")
        return payment
