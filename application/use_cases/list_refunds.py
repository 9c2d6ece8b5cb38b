"""List refunds, of one payment or of a merchant, newest first."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import NotFound
from application.pagination import check_limit
from application.ports.storage import Page, RefundQuery, UnitOfWorkFactory
from domain.refund import Refund


@dataclass(frozen=True, slots=True)
class ListRefunds:
    uow: UnitOfWorkFactory

    async def __call__(self, query: RefundQuery) -> Page[Refund]:
        """Listing the refunds of another merchant's payment is a 404, like reading it."""
        check_limit(query.limit)
        async with self.uow(read_only=True) as uow:
            if query.payment_no and not await uow.payments.get(query.payment_no, query.merchant_id):
                raise NotFound(f"no payment {query.payment_no}")
            return await uow.refunds.list(query)
