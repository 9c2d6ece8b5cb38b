"""The refunds table: its row mapper and `SqlRefundRepository`.

A refund row is written in the same unit of work that reserved its amount on the payment,
so the payment's row lock (or version check) is what keeps concurrent refunds honest.
"""

from __future__ import annotations

import builtins
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, select

from adapters.persistence.schema import refunds as t
from adapters.persistence.sql import Repository, newest_first, page_of, utc_day
from application.ports.storage import Cursor, Page, RefundQuery
from domain.money import Money
from domain.refund import Refund, RefundStatus

MUTABLE = (
    "status",
    "failure_code",
    "failure_message",
    "channel_reference",
    "updated_at",
    "completed_at",
)


def refund_to_row(r: Refund) -> dict[str, Any]:
    return {
        "refund_no": r.refund_no,
        "payment_no": r.payment_no,
        "merchant_id": r.merchant_id,
        "amount": r.amount.amount,
        "currency": r.amount.currency,
        "status": r.status.value,
        "reason": r.reason,
        "failure_code": r.failure_code,
        "failure_message": r.failure_message,
        "channel_reference": r.channel_reference,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "completed_at": r.completed_at,
        "request_key": r.request_key,
    }


def refund_from_row(r: Row[Any]) -> Refund:
    return Refund(
        refund_no=r.refund_no,
        payment_no=r.payment_no,
        merchant_id=r.merchant_id,
        amount=Money(r.amount, r.currency),
        created_at=r.created_at,
        updated_at=r.updated_at,
        status=RefundStatus(r.status),
        reason=r.reason,
        failure_code=r.failure_code,
        failure_message=r.failure_message,
        channel_reference=r.channel_reference,
        completed_at=r.completed_at,
        request_key=r.request_key,
    )


_INSERT = t.insert()
_BY_NO = select(t).where(t.c.refund_no == bindparam("r"))
_BY_NO_SCOPED = _BY_NO.where(t.c.merchant_id == bindparam("m"))
_BY_REQUEST_KEY = select(t).where(
    t.c.payment_no == bindparam("p"), t.c.request_key == bindparam("k")
)
_UPDATE = t.update().where(t.c.refund_no == bindparam("b_refund_no"))
_PENDING = (
    select(t)
    .where(t.c.status == RefundStatus.PENDING.value, t.c.updated_at < bindparam("before"))
    .order_by(t.c.updated_at, t.c.refund_no)
    .limit(bindparam("limit"))
)
_PENDING_COUNT = select(func.count()).where(
    t.c.status == RefundStatus.PENDING.value, t.c.updated_at >= bindparam("since")
)
_SUCCEEDED = select(t.c.amount, t.c.currency).where(
    t.c.merchant_id == bindparam("m"),
    t.c.status == RefundStatus.SUCCEEDED.value,
    t.c.completed_at >= bindparam("start"),
    t.c.completed_at < bindparam("end"),
)


class SqlRefundRepository(Repository):
    __slots__ = ()

    async def add(self, refund: Refund) -> None:
        await self._execute(_INSERT, refund_to_row(refund))

    async def get(self, refund_no: str, merchant_id: str | None = None) -> Refund | None:
        statement = _BY_NO if merchant_id is None else _BY_NO_SCOPED
        row = (await self._execute(statement, {"r": refund_no, "m": merchant_id})).first()
        return refund_from_row(row) if row is not None else None

    async def get_by_request_key(self, payment_no: str, request_key: str) -> Refund | None:
        row = (await self._execute(_BY_REQUEST_KEY, {"p": payment_no, "k": request_key})).first()
        return refund_from_row(row) if row is not None else None

    async def update(self, refund: Refund) -> None:
        row = refund_to_row(refund)
        params = {name: row[name] for name in MUTABLE}
        params["b_refund_no"] = refund.refund_no
        await self._execute(_UPDATE, params)

    async def list(self, query: RefundQuery) -> Page[Refund]:
        statement = select(t)
        if query.merchant_id is not None:
            statement = statement.where(t.c.merchant_id == query.merchant_id)
        if query.payment_no is not None:
            statement = statement.where(t.c.payment_no == query.payment_no)
        if query.status is not None:
            statement = statement.where(t.c.status == query.status.value)
        statement = newest_first(
            statement, t.c.created_at, t.c.refund_no, query.cursor, query.limit
        )
        items = [refund_from_row(row) for row in await self._execute(statement)]
        return page_of(items, query.limit, lambda r: Cursor(r.created_at, r.refund_no))

    async def list_pending(self, updated_before: datetime, limit: int) -> builtins.list[Refund]:
        result = await self._execute(_PENDING, {"before": updated_before, "limit": limit})
        return [refund_from_row(row) for row in result]

    async def count_pending(self, updated_from: datetime | None = None) -> int:
        since = updated_from or datetime.min.replace(tzinfo=UTC)
        return int((await self._execute(_PENDING_COUNT, {"since": since})).first()[0])

    async def succeeded_on(self, merchant_id: str, day: date) -> builtins.list[Money]:
        start, end = utc_day(day)
        result = await self._execute(_SUCCEEDED, {"m": merchant_id, "start": start, "end": end})
        return [Money(row.amount, row.currency) for row in result]
