"""List payments newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import ValidationFailed
from application.pagination import check_limit
from application.ports.storage import Page, PaymentQuery, UnitOfWorkFactory
from domain.payment import Payment


@dataclass(frozen=True, slots=True)
class ListPayments:
    uow: UnitOfWorkFactory

    async def __call__(self, query: PaymentQuery) -> Page[Payment]:
        check_limit(query.limit)
        if query.created_from and query.created_to and query.created_from > query.created_to:
            raise ValidationFailed("created_from must not be after created_to")
        async with self.uow(read_only=True) as uow:
            return await uow.payments.list(query)
