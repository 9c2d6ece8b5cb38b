"""The ids of every merchant, for jobs that walk them all (settlement)."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports.storage import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class ListMerchantIds:
    uow: UnitOfWorkFactory

    async def __call__(self) -> list[str]:
        async with self.uow(read_only=True) as uow:
            return await uow.merchants.list_ids()
