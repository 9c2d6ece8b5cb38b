"""`LocalOrderBook`: the merchant's orders in paygate's own database.

It shares the payments' database, so the use cases pass their unit of work and the
order is written in the payment's own transaction (one commit for both). Called without
one (`paygate serve-order`), each call is one autocommitted statement. Creating an order
twice is a no-op, which is what makes a retried payment attempt harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.errors import translated
from adapters.persistence.orders import SqlOrderRepository
from adapters.persistence.sql import Autocommit
from adapters.persistence.uow import SqlUnitOfWork
from application.ports.external import OrderRequest
from application.ports.platform import Clock
from application.ports.storage import UnitOfWork


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def order_reference(merchant_id: str, order_no: str) -> str:
    """Derived from the order's key, so a repeated create needs no read to answer."""
    return f"{merchant_id}/{order_no}"


def _joined(within: UnitOfWork) -> SqlOrderRepository:
    if not isinstance(within, SqlUnitOfWork):
        raise TypeError(f"the local order book joins only paygate's units of work: {within!r}")
    return within.orders


class LocalOrderBook:
    """Implements `OrderPort` over the `orders` table."""

    shares_database = True

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self._db = Autocommit(engine)
        self._clock = clock or _UtcClock()

    async def create_order(self, request: OrderRequest, within: UnitOfWork | None = None) -> str:
        now = self._clock.now()
        if within is not None:
            await _joined(within).add(request, now)
        else:
            with translated("recording an order"):
                async with self._db.connect() as conn:
                    await SqlOrderRepository(conn).add(request, now)
        return order_reference(request.merchant_id, request.order_no)

    async def update_status(
        self, merchant_id: str, order_no: str, status: str, within: UnitOfWork | None = None
    ) -> None:
        now = self._clock.now()
        if within is not None:
            await _joined(within).set_status(merchant_id, order_no, status, now)
            return
        with translated("updating an order"):
            async with self._db.connect() as conn:
                await SqlOrderRepository(conn).set_status(merchant_id, order_no, status, now)
