"""Read one refund, scoped to its merchant."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import NotFound
from application.ports.storage import UnitOfWorkFactory
from domain.refund import Refund


@dataclass(frozen=True, slots=True)
class GetRefund:
    uow: UnitOfWorkFactory

    async def __call__(self, refund_no: str, merchant_id: str | None = None) -> Refund:
        async with self.uow(read_only=True, snapshot=False) as uow:
            refund = await uow.refunds.get(refund_no, merchant_id)
        if refund is None:
            raise NotFound(f"no refund {refund_no}")
        return refund
