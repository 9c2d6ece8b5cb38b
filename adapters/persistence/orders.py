"""The orders table: `SqlOrderRepository`, the local order book's statements.

Used in two ways by `adapters.order.local.LocalOrderBook`: inside a payment's unit of
work (the order commits with the payment), or on an autocommit connection when the
order book is served on its own (`paygate serve-order`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, update

from adapters.persistence.schema import orders as t
from adapters.persistence.sql import InsertIgnoring, Repository
from application.ports.external import OrderRequest

_CREATE = InsertIgnoring(t, "merchant_id", "order_no")
_STATUS = (
    update(t)
    .where(t.c.merchant_id == bindparam("m"), t.c.order_no == bindparam("o"))
    .values(status=bindparam("s"), updated_at=bindparam("now"))
)


class SqlOrderRepository(Repository):
    __slots__ = ()

    async def add(self, request: OrderRequest, now: datetime) -> None:
        """Creating an order that exists already is a no-op (the order book is idempotent)."""
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
        await self._execute(_CREATE.on(self.dialect), row)

    async def set_status(self, merchant_id: str, order_no: str, status: str, now: datetime) -> None:
        params = {"m": merchant_id, "o": order_no, "s": status, "now": now}
        await self._execute(_STATUS, params)
