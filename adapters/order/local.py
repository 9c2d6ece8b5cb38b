"""`LocalOrderBook`: the merchant's orders in paygate's own database.

Called by the use case outside any unit of work, so each call is one autocommitted
statement; creating an order twice is a no-op, which is what makes a retried payment
attempt harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.errors import translated
from adapters.persistence.schema import orders as t
from adapters.persistence.sql import Autocommit, InsertIgnoring
from application.ports.external import OrderRequest
from application.ports.platform import Clock

_CREATE = InsertIgnoring(t, "merchant_id", "order_no")
_STATUS = (
    update(t)
    .where(t.c.merchant_id == bindparam("m"), t.c.order_no == bindparam("o"))
    .values(status=bindparam("s"), updated_at=bindparam("now"))
)


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def order_reference(merchant_id: str, order_no: str) -> str:
    """Derived from the order's key, so a repeated create needs no read to answer."""
    return f"{merchant_id}/{order_no}"


class LocalOrderBook:
    """Implements `OrderPort` over the `orders` table."""

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self._db = Autocommit(engine)
        self._clock = clock or _UtcClock()

    async def create_order(self, request: OrderRequest) -> str:
        now = self._clock.now()
        row = {
            "merchant_id": request.merchant_id,
            "order_no": request.order_no,
            "payment_no": request.payment_no,
            "amount": request.amount.amount,
            "currency": request.amount.currency,
            "description": request.description,
            "metadata": dict(request.metadata),
            "status": "created",
            "created_at": now,
            "updated_at": now,
        }
        with translated("recording an order"):
            async with self._db.connect() as conn:
                await conn.execute(_CREATE.on(conn.dialect.name), row)
        return order_reference(request.merchant_id, request.order_no)

    async def update_status(self, merchant_id: str, order_no: str, status: str) -> None:
        params = {"m": merchant_id, "o": order_no, "s": status, "now": self._clock.now()}
        with translated("updating an order"):
            async with self._db.connect() as conn:
                await conn.execute(_STATUS, params)
