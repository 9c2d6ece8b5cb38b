"""The orders table: `SqlOrderRepository`, the local order book's statements.

Used in two ways by `adapters.order.local.LocalOrderBook`: inside a payment's unit of
work (the order commits with the payment), or on an autocommit connection when the
order book is served on its own (`paygate serve-order`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Insert, bindparam, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from adapters.persistence.schema import orders as t
from adapters.persistence.sql import Repository
from application.ports.external import OrderRequest
from domain.payment import ENDED_UNPAID

_KEY = ("merchant_id", "order_no")
_ATTEMPT = ("payment_no", "amount", "currency", "description", "metadata", "status", "updated_at")
_ENDED_UNPAID = text(  # a constant: no parameter to bind on the payment path; compared, not
    # a list, which SQLite would make a temporary table of (docs/adr/0034)
    "(" + " OR ".join(f"orders.status = {status.value!r}" for status in sorted(ENDED_UNPAID))
    + ")")


def _attempt(excluded: ReadOnlyColumnCollection[str, Any]) -> dict[str, Any]:
    return {name: excluded[name] for name in _ATTEMPT}


# A new order, or another attempt at one whose payment ended unpaid; anything else is kept.
_sqlite, _pg = sqlite_insert(t), pg_insert(t)
_CREATE: dict[str, Insert] = {
    "sqlite": _sqlite.on_conflict_do_update(
        index_elements=_KEY, set_=_attempt(_sqlite.excluded), where=_ENDED_UNPAID),
    "postgresql": _pg.on_conflict_do_update(
        index_elements=_KEY, set_=_attempt(_pg.excluded), where=_ENDED_UNPAID),
}
_STATUS = (
    update(t)
    .where(t.c.merchant_id == bindparam("m"), t.c.order_no == bindparam("o"))
    .values(status=bindparam("s"), updated_at=bindparam("now"))
)


class SqlOrderRepository(Repository):
    __slots__ = ()

    async def add(self, request: OrderRequest, now: datetime) -> None:
        """Creating an order that exists already is a no-op (the order book is idempotent),
        unless its payment ended failed, rejected or canceled: then this attempt takes it."""
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
        await self._execute(_CREATE[self.dialect], row)

    async def set_status(self, merchant_id: str, order_no: str, status: str, now: datetime) -> None:
        params = {"m": merchant_id, "o": order_no, "s": status, "now": now}
        await self._execute(_STATUS, params)
