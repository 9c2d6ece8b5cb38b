"""More units of work than pooled connections: they wait their turn, in order.

SQLAlchemy's async pool hands a returned connection to whoever asks next, so a task that
closes a unit of work and at once opens another can take the connection back before a
waiter wakes. Under steady load a few waiters then starve until `pool_timeout` and fail
(seen as 503s in the benchmark); the engine's connection gate queues them FIFO instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import SqlUnitOfWorkFactory
from application.errors import Unavailable

SLOTS, TASKS, SECONDS = 2, 8, 1.5


async def test_busy_tasks_cannot_starve_a_waiting_one(
    engine_factory: Callable[..., AsyncEngine],
) -> None:
    units = SqlUnitOfWorkFactory(
        engine_factory(pool_size=SLOTS, max_overflow=0, pool_timeout=SECONDS / 3)
    )
    served = [0] * TASKS
    deadline = time.monotonic() + SECONDS

    async def busy(task: int) -> None:
        while time.monotonic() < deadline:
            async with units(read_only=True, snapshot=False) as uow:
                await uow.merchants.get("mer_nobody")
            served[task] += 1  # and straight back for another unit, as a request would

    await asyncio.gather(*(busy(task) for task in range(TASKS)))
    assert min(served) > 0, served


async def test_waiting_longer_than_the_pool_timeout_is_unavailable(
    engine_factory: Callable[..., AsyncEngine],
) -> None:
    units = SqlUnitOfWorkFactory(engine_factory(pool_size=1, max_overflow=0, pool_timeout=0.2))
    async with units(read_only=True):
        with pytest.raises(Unavailable, match=r"no database connection came free within 0\.2 s"):
            async with units(read_only=True):
                pass
    async with units(read_only=True) as uow:  # the turn came back with the connection
        assert await uow.merchants.get("mer_nobody") is None
