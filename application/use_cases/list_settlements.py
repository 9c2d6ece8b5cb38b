"""Read settlements, by merchant and day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from application.ports.storage import UnitOfWorkFactory
from domain.settlement import Settlement


@dataclass(frozen=True, slots=True)
class ListSettlements:
    uow: UnitOfWorkFactory

    async def __call__(
        self, merchant_id: str | None = None, day: date | None = None
    ) -> list[Settlement]:
        async with self.uow(read_only=True) as uow:
            return await uow.settlements.list(merchant_id, day)
