"""The settlements table: one row per merchant, currency and UTC day."""

from __future__ import annotations

import builtins
from datetime import date
from typing import Any

from sqlalchemy import Row, select

from adapters.persistence.schema import settlements as t
from adapters.persistence.sql import InsertIgnoring, Repository
from application.errors import AlreadySettled
from domain.settlement import Settlement


def settlement_to_row(s: Settlement) -> dict[str, Any]:
    return {
        "settlement_id": s.settlement_id,
        "merchant_id": s.merchant_id,
        "currency": s.currency,
        "day": s.day,
        "gross": s.gross,
        "refunds": s.refunds,
        "fees": s.fees,
        "payment_count": s.payment_count,
        "refund_count": s.refund_count,
        "created_at": s.created_at,
    }


def settlement_from_row(r: Row[Any]) -> Settlement:
    return Settlement(
        settlement_id=r.settlement_id,
        merchant_id=r.merchant_id,
        currency=r.currency,
        day=r.day,
        gross=r.gross,
        refunds=r.refunds,
        fees=r.fees,
        payment_count=r.payment_count,
        refund_count=r.refund_count,
        created_at=r.created_at,
    )


_INSERT = InsertIgnoring(t, "merchant_id", "currency", "day")


class SqlSettlementRepository(Repository):
    __slots__ = ()

    async def add(self, settlement: Settlement) -> None:
        result = await self._execute(_INSERT.on(self.dialect), settlement_to_row(settlement))
        if result.rowcount == 0:
            raise AlreadySettled(
                f"{settlement.merchant_id} is already settled in {settlement.currency}"
                f" for {settlement.day.isoformat()}"
            )

    async def list(
        self, merchant_id: str | None = None, day: date | None = None
    ) -> builtins.list[Settlement]:
        """Oldest day first, then by currency."""
        statement = select(t).order_by(t.c.day, t.c.merchant_id, t.c.currency)
        if merchant_id is not None:
            statement = statement.where(t.c.merchant_id == merchant_id)
        if day is not None:
            statement = statement.where(t.c.day == day)
        return [settlement_from_row(row) for row in await self._execute(statement)]
