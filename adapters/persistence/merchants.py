"""The merchants table: its row mapper and `SqlMerchantRepository`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, select, update

from adapters.persistence.schema import merchants as t
from adapters.persistence.sql import Repository
from domain.merchant import Merchant
from domain.settlement import FeeSchedule


def merchant_to_row(m: Merchant) -> dict[str, Any]:
    return {
        "merchant_id": m.merchant_id,
        "name": m.name,
        "api_key": m.api_key,
        "api_secret_sealed": m.api_secret_sealed,
        "webhook_secret_sealed": m.webhook_secret_sealed,
        "fee_basis_points": m.fees.basis_points,
        "fee_fixed": m.fees.fixed,
        "active": m.active,
        "created_at": m.created_at,
    }


def merchant_from_row(r: Row[Any]) -> Merchant:
    return Merchant(
        merchant_id=r.merchant_id,
        name=r.name,
        api_key=r.api_key,
        api_secret_sealed=r.api_secret_sealed,
        webhook_secret_sealed=r.webhook_secret_sealed,
        created_at=r.created_at,
        fees=FeeSchedule(r.fee_basis_points, r.fee_fixed),
        active=bool(r.active),
    )


_INSERT = t.insert()
_BY_ID = select(t).where(t.c.merchant_id == bindparam("m"))
_BY_KEY = select(t).where(t.c.api_key == bindparam("k"))
_SET_ACTIVE = update(t).where(t.c.merchant_id == bindparam("m")).values(active=bindparam("a"))
_OLDEST_FIRST = (t.c.created_at, t.c.merchant_id)
_IDS = select(t.c.merchant_id).order_by(*_OLDEST_FIRST)
_ALL = select(t).order_by(*_OLDEST_FIRST)


class SqlMerchantRepository(Repository):
    __slots__ = ()

    async def add(self, merchant: Merchant) -> None:
        await self._execute(_INSERT, merchant_to_row(merchant))

    async def get(self, merchant_id: str) -> Merchant | None:
        row = (await self._execute(_BY_ID, {"m": merchant_id})).first()
        return merchant_from_row(row) if row is not None else None

    async def get_by_api_key(self, api_key: str) -> Merchant | None:
        row = (await self._execute(_BY_KEY, {"k": api_key})).first()
        return merchant_from_row(row) if row is not None else None

    async def set_active(self, merchant_id: str, active: bool) -> bool:
        return bool((await self._execute(_SET_ACTIVE, {"m": merchant_id, "a": active})).rowcount)

    async def list_ids(self) -> list[str]:
        return list((await self._execute(_IDS)).scalars())

    async def list_all(self) -> list[Merchant]:
        return [merchant_from_row(row) for row in await self._execute(_ALL)]
