"""Every merchant: its id for jobs that walk them all (settlement), or the merchant itself
for an operator looking for one."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports.storage import UnitOfWorkFactory
from domain.merchant import Merchant


@dataclass(frozen=True, slots=True)
class ListMerchantIds:
    uow: UnitOfWorkFactory

    async def __call__(self) -> list[str]:
        async with self.uow(read_only=True) as uow:
            return await uow.merchants.list_ids()


@dataclass(frozen=True, slots=True)
class ListMerchants:
    """Every merchant, oldest first (an operator's list: a few merchants, not a page of
    payments)."""

    uow: UnitOfWorkFactory

    async def __call__(self) -> list[Merchant]:
        async with self.uow(read_only=True) as uow:
            return await uow.merchants.list_all()
