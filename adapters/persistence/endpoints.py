"""The webhook_endpoints table: its row mapper and `SqlEndpointRepository`.

A deleted endpoint stays as a row with `deleted_at`, so the deliveries made to it still
name it; the merchant no longer sees it.
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import Row, bindparam, select

from adapters.persistence.schema import webhook_endpoints as t
from adapters.persistence.sql import Repository
from domain.events import Subscription
from domain.webhook_endpoint import WebhookEndpoint

MUTABLE = ("url", "events", "secret_sealed", "previous_secret_sealed", "previous_expires_at",
           "deleted_at")


def endpoint_to_row(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "endpoint_id": e.endpoint_id,
        "merchant_id": e.merchant_id,
        "url": e.url,
        "events": e.subscription.names,
        "secret_sealed": e.secret_sealed,
        "previous_secret_sealed": e.previous_secret_sealed,
        "previous_expires_at": e.previous_expires_at,
        "created_at": e.created_at,
        "deleted_at": e.deleted_at,
    }


def endpoint_from_row(r: Row[Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        endpoint_id=r.endpoint_id,
        merchant_id=r.merchant_id,
        url=r.url,
        subscription=Subscription(frozenset(r.events)),
        secret_sealed=r.secret_sealed,
        created_at=r.created_at,
        previous_secret_sealed=r.previous_secret_sealed,
        previous_expires_at=r.previous_expires_at,
        deleted_at=r.deleted_at,
    )


_INSERT = t.insert()
_BY_ID = select(t).where(t.c.endpoint_id == bindparam("e"), t.c.merchant_id == bindparam("m"))
_BY_ID_LOCKED = _BY_ID.with_for_update()
_BY_IDS = select(t).where(t.c.endpoint_id.in_(bindparam("ids", expanding=True)))
_ACTIVE = (
    select(t)
    .where(t.c.merchant_id.in_(bindparam("ids", expanding=True)), t.c.deleted_at.is_(None))
    .order_by(t.c.created_at, t.c.endpoint_id)
)
_UPDATE = t.update().where(t.c.endpoint_id == bindparam("b_endpoint_id"))


class SqlEndpointRepository(Repository):
    __slots__ = ()

    async def add(self, endpoint: WebhookEndpoint) -> None:
        await self._execute(_INSERT, endpoint_to_row(endpoint))

    async def get(
        self, endpoint_id: str, merchant_id: str, *, for_update: bool = False
    ) -> WebhookEndpoint | None:
        statement = _BY_ID_LOCKED if for_update else _BY_ID
        row = (await self._execute(statement, {"e": endpoint_id, "m": merchant_id})).first()
        return endpoint_from_row(row) if row is not None else None

    async def update(self, endpoint: WebhookEndpoint) -> None:
        row = endpoint_to_row(endpoint)
        params = {name: row[name] for name in MUTABLE}
        params["b_endpoint_id"] = endpoint.endpoint_id
        await self._execute(_UPDATE, params)

    async def active(self, merchant_ids: builtins.list[str]) -> builtins.list[WebhookEndpoint]:
        if not merchant_ids:
            return []
        return [endpoint_from_row(r) for r in await self._execute(_ACTIVE, {"ids": merchant_ids})]

    async def by_ids(self, endpoint_ids: builtins.list[str]) -> builtins.list[WebhookEndpoint]:
        if not endpoint_ids:
            return []
        rows = await self._execute(_BY_IDS, {"ids": endpoint_ids})
        return [endpoint_from_row(row) for row in rows]
