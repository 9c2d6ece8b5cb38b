"""Fixtures of the persistence contract suite."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from adapters.persistence import SqlUnitOfWorkFactory
from domain.merchant import Merchant
from domain.payment import Payment

Seed = Callable[..., Awaitable[None]]


@pytest.fixture
def seed(uow_factory: SqlUnitOfWorkFactory) -> Seed:
    """`await seed(*merchants_and_payments)`: commit them, in order, in one unit of work."""

    async def add(*objects: Merchant | Payment) -> None:
        async with uow_factory() as uow:
            for obj in objects:
                if isinstance(obj, Merchant):
                    await uow.merchants.add(obj)
                else:
                    await uow.payments.add(obj)
            await uow.commit()

    return add
