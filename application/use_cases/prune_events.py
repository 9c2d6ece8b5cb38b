"""Forget events past the retention (30 days unless configured), with their deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.ports.platform import Clock
from application.ports.storage import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class PruneEvents:
    """A bounded batch per transaction, so a first run on a large feed never holds the
    database for long; the worker runs it again until nothing is left."""

    uow: UnitOfWorkFactory
    clock: Clock
    retention: timedelta = timedelta(days=30)
    batch: int = 1000

    async def __call__(self) -> dict[str, int]:
        before = self.clock.now() - self.retention
        async with self.uow() as uow:
            pruned = await uow.events.prune(before, self.batch)
            await uow.commit()
        return {"pruned": pruned}
