"""How far the feed is behind: the age of the oldest event not yet published."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports.platform import Clock
from application.ports.storage import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class MeasureOutboxLag:
    """Read wherever metrics are scraped, so the lag shows (and alerts) even when no
    publisher runs at all: that is when it grows."""

    uow: UnitOfWorkFactory
    clock: Clock

    async def __call__(self) -> float:
        """Seconds; 0 when everything written is published."""
        async with self.uow(read_only=True, snapshot=False) as uow:
            oldest = await uow.outbox.oldest_created_at()
        if oldest is None:
            return 0.0
        return max(0.0, (self.clock.now() - oldest).total_seconds())
